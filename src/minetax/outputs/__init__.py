"""Outputs for people: the Excel workbook, CSV/Parquet of the views, the PDF/HTML report."""
