"""The pytest plugin (`harness.pytest.plugin`, loaded by its entry point) and the plugins
it loads: migrations, perf, masking, servers."""
