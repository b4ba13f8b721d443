import tests.testenv  # noqa: F401, I001  (first: the environment must be set before scribetree loads)
