"""The outbound calling tool as a CRM (VOX-18): contacts, call lists for agents, caller IDs
chosen among the customer's numbers, call outcomes and recordings attached to contacts."""
