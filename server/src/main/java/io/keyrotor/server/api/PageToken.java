package io.keyrotor.server.api;

import io.keyrotor.api.v1.ErrorReason;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The page tokens of ListKeys: opaque to clients, they name the last key of the previous page
 * ({@code "after:" + name}, URL-safe Base64 without padding). A token this server did not issue is
 * INVALID_ARGUMENT INVALID_PAGE_TOKEN.
 */
final class PageToken {
  private static final String PREFIX = "after:";

  private PageToken() {}

  /** The token of the page that follows the key named {@code lastName}. */
  static String after(String lastName) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((PREFIX + lastName).getBytes(StandardCharsets.UTF_8));
  }

  /** The name the next page starts after; empty for an empty token (the first page). */
  static String lastNameOf(String token) {
    if (token.isEmpty()) {
      return "";
    }
    try {
      String decoded = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (decoded.startsWith(PREFIX)) {
        return decoded.substring(PREFIX.length());
      }
    } catch (IllegalArgumentException e) {
      // not Base64: refused below
    }
    throw ApiErrors.invalid(
        "page_token", ErrorReason.INVALID_PAGE_TOKEN, "page_token is not one this server returned");
  }
}
