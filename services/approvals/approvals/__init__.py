"""The approvals service: configurable multi-level approval flows for any document type."""
