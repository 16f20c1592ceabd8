package io.keyrotor.server.testing;

/**
 * Searches raw bytes (files on disk, stored records, backup files) for a needle: how tests prove
 * that key material never reached a place it must not be.
 */
public final class ByteSearch {
  private ByteSearch() {}

  /** Whether {@code needle} stands anywhere in {@code haystack}. */
  public static boolean contains(byte[] haystack, byte[] needle) {
    return indexOf(haystack, needle) >= 0;
  }

  /** Where {@code needle} first stands in {@code haystack}, or -1. */
  public static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
