"""Named builders of the data sets several test modules share (not tests: nothing is collected
here). Fixtures that wrap them live in the `conftest.py` nearest the tests that use them."""
