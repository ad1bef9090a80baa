"""The standard models, lowered to xnnpack: the expected share of their ops
delegated, outputs within rtol 1e-4 of eager PyTorch, and the plugin's
contract details (threads compile spec, bad blob, discovery)."""

import pytest
import torch

import wick
from wick.delegate_sdk import CompileSpec
from wick.models import STANDARD_MODELS

from conftest import lower_and_run

# Share of Edge ops that run on XNNPACK. tiny_llama keeps its embedding
# (gather), QKV split, attention transposes and batch matmuls on the portable
# kernels (this XNNPACK has no gather, slice, transpose or batch matmul), and
# the lone expands and clones between them (partitions that only move data).
EXPECTED_FRACTION = {"mobilenet_v2": 1.0, "resnet18": 1.0, "mlp": 1.0, "small_cnn": 1.0, "tiny_llama": 0.63}


@pytest.mark.parametrize("name", sorted(STANDARD_MODELS))
def test_standard_model_is_delegated_and_matches_eager(name):
    model, inputs = STANDARD_MODELS[name]()
    got, report = lower_and_run(model, inputs)
    assert report.fraction("forward", "xnnpack") >= EXPECTED_FRACTION[name], report.to_text()
    with torch.no_grad():
        expected = model(*inputs)
    torch.testing.assert_close(got[0], expected, rtol=1e-4, atol=1e-4 * expected.abs().max().item())


@pytest.mark.parametrize("threads", ["1", "2", "0"])
def test_threads_compile_spec(threads):
    model, inputs = STANDARD_MODELS["small_cnn"]()
    got, _ = lower_and_run(model, inputs, {"xnnpack": [CompileSpec.of("threads", threads)]})
    torch.testing.assert_close(got[0], model(*inputs), rtol=1e-4, atol=1e-5)


def test_bad_threads_spec_is_a_clear_error():
    model, inputs = STANDARD_MODELS["mlp"]()
    program = wick.export(model, inputs, backends=["xnnpack"],
                          compile_specs={"xnnpack": [CompileSpec.of("threads", "many")]})
    with pytest.raises(Exception, match="threads='many'"):
        wick.runtime.load(program.buffer).method("forward")(*inputs)


@pytest.mark.parametrize("threads", [1, 2])
def test_threads_as_a_load_time_option(threads):
    model, inputs = STANDARD_MODELS["small_cnn"]()
    program = wick.export(model, inputs, backends=["xnnpack"])
    method = wick.runtime.load(program.buffer, backend_options={"xnnpack": {"threads": threads}}).method("forward")
    torch.testing.assert_close(method(*inputs)[0], model(*inputs), rtol=1e-4, atol=1e-5)


def test_load_time_option_replaces_the_exported_thread_count_and_typos_are_named(wick_run, tmp_path):
    import subprocess

    model, inputs = STANDARD_MODELS["mlp"]()
    program = wick.export(model, inputs, backends=["xnnpack"],
                          compile_specs={"xnnpack": [CompileSpec.of("threads", 2)]})
    # The option reaches init in place of the exported spec: a bad value is refused by name.
    with pytest.raises(Exception, match="threads='many'"):
        wick.runtime.load(program.buffer, backend_options={"xnnpack": {"threads": "many"}}).method("forward")
    with pytest.raises(ValueError, match="no load-time option 'thread'"):
        wick.runtime.load(program.buffer, backend_options={"xnnpack": {"thread": 1}})
    with pytest.raises(ValueError, match="unknown compile spec 'thread'"):
        wick.export(model, inputs, backends=["xnnpack"], compile_specs={"xnnpack": [CompileSpec.of("thread", 2)]})
    # wick-run has no plugin descriptor to ask: the runtime half names the typo.
    path = tmp_path / "mlp.wick"
    program.save(str(path))
    from wick import plugins

    lib = plugins.get("xnnpack").descriptor.runtime_library
    ok = subprocess.run([wick_run, str(path), "--backend-lib", lib, "--backend-option", "xnnpack.threads=1"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([wick_run, str(path), "--backend-lib", lib, "--backend-option", "xnnpack.thread=1"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "unknown compile spec or option 'thread'" in bad.stderr, bad.stderr


def test_plugin_is_discovered_with_its_runtime_library():
    from wick import plugins

    plugin = plugins.get("xnnpack")
    assert not plugin.broken
    assert plugin.descriptor.runtime_library.endswith("libwick_xnnpack_runtime.so")


def test_blob_is_a_wxnn_flatbuffer():
    from wick_xnnpack.partitioner import XnnpackPartitioner  # noqa: F401 - import check
    model, inputs = STANDARD_MODELS["mlp"]()
    edge = wick.to_edge_and_lower(torch.export.export(model, inputs), ["xnnpack"])
    record = edge.delegates["forward"][0]
    assert record.blob[4:8] == b"WXNN"
    assert record.debug_map["xnnpack_nodes"] == {"FullyConnected": 3}  # both ReLUs fused
