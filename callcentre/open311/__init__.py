"""Open311 GeoReport v2: other channels (the WeChat account, the app, the city's 12345
hotline and its partners) file and follow repair requests by the open standard.

``selectors`` reads the services, their attributes and the requests as the spec shows them;
``services`` files a request as a ticket through the console's own service; ``documents``
writes them as JSON or XML; ``views`` are the endpoints (``/open311/``).
"""
