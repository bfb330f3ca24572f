"""Turn another tool's configuration into a system description (``dom0less import``)."""
