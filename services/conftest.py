# Service tests run under eventlet, as `nameko run` does: patch before anything else imports.
import eventlet

eventlet.monkey_patch()
