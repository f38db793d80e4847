"""The customers service of the CRM: customers, contacts, follow-ups, opportunities, duplicate
detection, CSV import."""
