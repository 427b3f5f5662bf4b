"""Model: farm × month and country × month (sql/model/)."""
