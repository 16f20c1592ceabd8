package io.keyrotor.client;

import io.grpc.Status;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.ListKeysResponse;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * The keys of every page of a {@code ListKeys} request, fetched lazily as the iteration advances
 * (see {@link KeyrotorClient#listAllKeys(ListKeysRequest)}). A server that answers with the page
 * token it was given ends the iteration with {@code PAGE_TOKEN_REPEATED} instead of looping.
 */
final class KeyPageIterator implements Iterator<Key> {

  private final ListKeysRequest request;
  private final Function<ListKeysRequest, ListKeysResponse> listKeys;
  private Iterator<Key> page = List.<Key>of().iterator();
  private String nextToken;
  private boolean lastPage;

  /**
   * @param listKeys one page: one call with its own deadline and retries
   */
  KeyPageIterator(ListKeysRequest request, Function<ListKeysRequest, ListKeysResponse> listKeys) {
    this.request = request;
    this.listKeys = listKeys;
    this.nextToken = request.getPageToken();
  }

  @Override
  public boolean hasNext() {
    while (!page.hasNext() && !lastPage) {
      ListKeysResponse response =
          listKeys.apply(request.toBuilder().setPageToken(nextToken).build());
      if (!nextToken.isEmpty() && response.getNextPageToken().equals(nextToken)) {
        throw KeyrotorException.clientSide(
            Status.Code.INTERNAL,
            ErrorReason.PAGE_TOKEN_REPEATED,
            "ListKeys returned the page token it was given; stopping to avoid a loop",
            null);
      }
      page = response.getKeysList().iterator();
      nextToken = response.getNextPageToken();
      lastPage = nextToken.isEmpty();
    }
    return page.hasNext();
  }

  @Override
  public Key next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return page.next();
  }
}
