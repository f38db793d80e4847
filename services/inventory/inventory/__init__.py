"""The inventory service of the CRM: catalogue, price lists, warehouses, serialized units, stock
moves, reservations, purchase orders, trade-ins."""
