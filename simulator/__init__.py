"""The wireproof reference simulator (an Exchange-2003-style server).

Not built yet: the simulator core and its virtual servers arrive with issue 3.
Until then this package holds nothing, and the harness runs against real servers only.
"""
