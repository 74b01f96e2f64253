"""A protected resource as RFC 6750 describes one, on Django OAuth Toolkit."""
from django.http import JsonResponse
from oauth2_provider.oauth2_backends import get_oauthlib_core


def me(request):
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=[])
    if not valid:
        response = JsonResponse({"error": "invalid_token"}, status=401)
        response["WWW-Authenticate"] = (
            'Bearer realm="dotsite", error="invalid_token", '
            'error_description="The access token is invalid, expired or revoked"'
        )
        return response
    return JsonResponse({"user": oauth_request.user.username})
