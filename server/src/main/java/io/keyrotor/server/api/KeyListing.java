package io.keyrotor.server.api;

import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.ListKeysResponse;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.storage.StateView;

/**
 * One page of ListKeys: keys in name order after the page token's key, filtered by zone and label
 * selector, at most {@code pageSize} of them, with the token of the next page when more keys
 * follow. Checked when made (page size, page token), so bad input is refused before the barrier.
 */
record KeyListing(int pageSize, String afterName, String zoneOrEmpty, LabelSelector selector) {
  /** Keys per page when the request names no page size. */
  static final int DEFAULT_PAGE_SIZE = 100;

  /** The largest page a request may ask for. */
  static final int MAX_PAGE_SIZE = 1000;

  /** The listing a request asks for; INVALID_ARGUMENT for a page size or token out of bounds. */
  static KeyListing of(ListKeysRequest request) {
    // page_size is a uint32: read as a Java int, 2^31 and above would be negative and pass.
    long requested = Integer.toUnsignedLong(request.getPageSize());
    long pageSize = requested == 0 ? DEFAULT_PAGE_SIZE : requested;
    if (pageSize > MAX_PAGE_SIZE) {
      throw ApiErrors.invalid(
          "page_size",
          ErrorReason.INVALID_PAGE_SIZE,
          "page_size must be at most " + MAX_PAGE_SIZE + ", got " + pageSize);
    }
    return new KeyListing(
        (int) pageSize,
        PageToken.lastNameOf(request.getPageToken()),
        request.getZone(),
        new LabelSelector(request.getLabelSelectorMap()));
  }

  /** The page as {@code state} holds it, keys shown at {@code timeMillis}. */
  ListKeysResponse page(StateView state, long timeMillis) {
    ListKeysResponse.Builder out = ListKeysResponse.newBuilder();
    // Read from the store a page at a time, starting after the page token's name (a seek).
    String last = null;
    for (KeyRecord key : state.keysFrom(afterName)) {
      if (out.getKeysCount() >= pageSize) {
        out.setNextPageToken(PageToken.after(last));
        break;
      }
      last = key.getName();
      if (!zoneOrEmpty.isEmpty() && !zoneOrEmpty.equals(key.getZone())) {
        continue;
      }
      if (selector.matches(key)) {
        out.addKeys(KeyViews.toApi(key, timeMillis));
      }
    }
    return out.build();
  }
}
