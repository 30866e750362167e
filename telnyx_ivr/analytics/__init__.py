"""Call-log figures: what each call counts as (``outcomes``), fixed-bucket histograms
(``histograms``), the roll-ups the engine's calls are summed into (``rollups``) and the figures
every page, the API and the CSV export read (``figures``). See docs/dashboards.md."""
