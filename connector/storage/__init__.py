"""Everything SQL: engine and session, the tables, the repositories."""
