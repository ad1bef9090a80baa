"""Prints a sha256 over the files of an unpacked source archive.

The digest covers each file's path below the archive's top folder, its
executable bit (or a symlink's target) and its bytes, so it is the same for
`git archive` of one commit whatever the compression or top-folder name:
GitHub's `archive/<commit>.tar.gz` and the .tar.xz copies in shared/thirdparty
give one digest, which the build checks before compiling anything.

    python source_digest.py UNPACKED_TOP_FOLDER
"""
import hashlib
import os
import sys


def source_digest(top: str) -> str:
    entries = []
    for folder, dirs, files in os.walk(top):
        dirs.sort()
        for name in files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, top).replace(os.sep, "/")
            if os.path.islink(path):
                entries.append(f"{rel}\tlink\t{os.readlink(path)}")
                continue
            with open(path, "rb") as f:
                content = hashlib.sha256(f.read()).hexdigest()
            mode = "x" if os.access(path, os.X_OK) else "-"
            entries.append(f"{rel}\t{mode}\t{content}")
    entries.sort()
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


if __name__ == "__main__":
    print(source_digest(sys.argv[1]))
