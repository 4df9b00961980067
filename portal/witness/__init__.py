"""A C2SP tlog-witness for the portal's access log, run as its own process (``portal witness``).

It imports no database code of the portal: a school board or a partner
organisation runs it on another host with its own key and storage directory.
"""
