"""The test modules of the suites harness ships (see `harness.pytest.suites`)."""
