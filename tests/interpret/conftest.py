"""Every test here starts from shipped models (`zoo.pretrained`): training a classifier fails."""

import pytest

from tests.helpers import no_classifier_training


@pytest.fixture(scope="package", autouse=True)
def no_training():
    with no_classifier_training("tests/interpret"):
        yield
