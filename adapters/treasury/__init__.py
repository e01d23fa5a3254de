"""The treasury (国库/TIPS) receipt (入库) lookup: interface and simulator."""
