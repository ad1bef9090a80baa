"""pytest plugin: the conformance suite inside a vendor's own test run.

    pytest --wick-backend NAME [--wick-level N] [-k FILTER] [--wick-report DIR]

One test item per catalog case (``wick-conformance[NAME]::op/relu.default/float32/edge``):
a pass passes, a failure fails naming the op and the cause (mismatch, crashed
with its signal, hung, ...), a case the backend does not claim or whose
reference cannot run is skipped with the reason. Cases run in the same worker
subprocesses as ``wick conformance``, so a crashing backend fails its case
without taking pytest down.

Registered through the ``pytest11`` entry point, so it is loaded in every
pytest run of an environment where Wick is installed: without
``--wick-backend`` it only adds its options (importing nothing heavy).
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wick-conformance", "Wick backend conformance (docs/conformance.md)")
    group.addoption("--wick-backend", default=None, metavar="NAME",
                    help="run the Wick conformance cases for this backend plugin")
    group.addoption("--wick-level", type=int, default=2, choices=(1, 2, 3), metavar="N",
                    help="certification level whose cases to run (default 2)")
    group.addoption("--wick-full", action="store_true", help="include the full tier of the catalog")
    group.addoption("--wick-relaxed", action="store_true", help="declared relaxed tolerances")
    group.addoption("--wick-timeout", type=float, default=None, metavar="S", help="per-case time limit")
    group.addoption("--wick-compile-spec", action="append", default=[], metavar="KEY=VALUE",
                    help="compile spec for the backend (repeatable)")
    group.addoption("--wick-report", default=None, metavar="DIR",
                    help="also write report.json, report.xml and report.html of the cases run")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "wick_conformance: a Wick conformance case (added by --wick-backend)")
    if config.getoption("wick_backend", None):
        config.pluginmanager.register(_Session(config), "wick-conformance-session")


class ConformanceCollector(pytest.Collector):
    def collect(self):  # items are made in pytest_collection_modifyitems
        return []


class ConformanceItem(pytest.Item):
    def __init__(self, *, case, state, **kwargs):
        super().__init__(**kwargs)
        self.case = case
        self.state = state
        self.add_marker(pytest.mark.wick_conformance)

    def runtest(self) -> None:
        result = self.state.run(self.case)
        verdict = result.get("verdict")
        if verdict == "pass":
            return
        if verdict == "fail":
            ops = ", ".join([self.case.op] if self.case.kind in ("op", "dynamic")
                            else result.get("claimed_ops") or [self.case.op])
            cause = result.get("cause") + (f" ({result['signal']})" if result.get("signal") else "")
            raise ConformanceFailure(f"{ops}: {cause}: {result.get('message', '')}")
        pytest.skip(f"{verdict}: {result.get('message', '')[:300]}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, ConformanceFailure):
            return f"{self.case.id}\n{excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"wick conformance {self.case.id}"


class ConformanceFailure(AssertionError):
    pass


class _Session:
    """Holds the worker pool (created on the first case) and the results."""

    def __init__(self, config: pytest.Config):
        from .runner import DEFAULT_TIMEOUT_S, RunConfig

        specs = [tuple(s.split("=", 1)) if "=" in s else (s, "") for s in config.getoption("wick_compile_spec")]
        self.cfg = RunConfig(backend=config.getoption("wick_backend"), level=config.getoption("wick_level"),
                             keyword=config.getoption("keyword") or None, full=config.getoption("wick_full"),
                             relaxed=config.getoption("wick_relaxed"),
                             timeout=config.getoption("wick_timeout") or DEFAULT_TIMEOUT_S, jobs=1,
                             compile_specs=specs)
        self.report_dir = config.getoption("wick_report")
        self.pool = None
        self.results: dict[str, dict] = {}
        self.ran: list = []
        self.info = None
        self.start = None
        self.report = None

    @pytest.hookimpl(tryfirst=True)  # before pytest's -k/-m deselection sees the items
    def pytest_collection_modifyitems(self, session, config, items):
        from . import catalog
        from .runner import RunError, backend_info

        try:
            self.info = backend_info(self.cfg.backend)
        except RunError as e:
            raise pytest.UsageError(f"--wick-backend: {e}") from None
        name = f"wick-conformance[{self.cfg.backend}]"
        parent = ConformanceCollector.from_parent(session, name=name, nodeid=name)
        for case in catalog.select(self.cfg.level, None, self.cfg.full):
            items.append(ConformanceItem.from_parent(parent, name=case.id, case=case, state=self))

    def run(self, case) -> dict:
        import time

        from .runner import Pool

        if self.pool is None:
            self.pool = Pool(self.cfg)
            self.start = time.monotonic()
        got: list[dict] = []
        self.pool.run([case], got.append)
        self.results[case.id] = got[0]
        self.ran.append(case)
        return got[0]

    def pytest_sessionfinish(self, session):
        if self.pool is None:
            return
        import time

        from . import environment, report

        env_worker = self.pool.env
        self.pool.close()
        if self.report_dir and self.ran:
            env = environment.collect(self.info, env_worker)
            self.report = report.build(self.cfg, env, self.ran, self.results, time.monotonic() - self.start)
            report.write_all(self.report, self.report_dir)

    def pytest_terminal_summary(self, terminalreporter):
        if self.report is not None:
            terminalreporter.write_line(report_line(self.report, self.report_dir))


def report_line(rep: dict, out_dir: str) -> str:
    from .report import console_line

    return console_line(rep, out_dir)
