import tests.testenv  # noqa: F401  (first: the environment must be set before scribetree loads)
