"""The approvers' pages: each controller reads and changes state only through its area's service."""
