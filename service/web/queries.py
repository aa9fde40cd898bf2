"""The web pages' own reads: the names behind the actor references other areas record."""

USER_NAMES = "select id, display_name from web_user where id = any($1::bigint[])"
CLIENT_NAMES = "select id, name, organisation from api_client where id = any($1::bigint[])"
