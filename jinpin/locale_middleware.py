class ChineseByDefaultMiddleware:
    """Simplified Chinese unless the user chose another language (the language cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language; the programme's
    interface is Chinese by default whatever the browser says, and English on request.
    Runs before LocaleMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
