# Service tests run under eventlet, as `nameko run` does: patch before anything else imports.
import os

import eventlet

eventlet.monkey_patch()
# every event published in the tests is checked against the event catalogue (crm_common.catalogue)
os.environ.setdefault("CRM_VALIDATE_EVENTS", "1")
