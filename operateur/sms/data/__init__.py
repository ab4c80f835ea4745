"""Data files of the SMS context (a package so they ship): the sensitive sender names."""
