"""CRM: roster (teams, agents) and tickets from a paginated REST API with an update cursor."""
