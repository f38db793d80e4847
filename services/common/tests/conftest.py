import uuid

import pytest
from crm_common.testing import create_vhost, delete_vhost, vhost_uri


@pytest.fixture
def vhost_uri_fresh():
    """A vhost of its own for each test: queues and dead letters do not leak between tests."""
    vhost = f"crm-test-{uuid.uuid4().hex[:12]}"
    create_vhost(vhost)
    yield vhost_uri(vhost)
    delete_vhost(vhost)
