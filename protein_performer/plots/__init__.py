"""Figures. Every figure is drawn by a function here from results computed in `analysis/` (or
`bench/`); `style` holds the one shared look. Import matplotlib only inside this package."""
