"""The monthly supervisor inputs: one workbook per team per month."""
