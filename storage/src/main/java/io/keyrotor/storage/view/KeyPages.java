package io.keyrotor.storage.view;

import io.keyrotor.proto.internal.v1.KeyRecord;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The keys after a name, read a page at a time through a page reader: iterating holds one page (a
 * few hundred records) whatever the number of keys, and no database resource between pages. Each
 * page is read as committed when it is read; a key written meanwhile is seen in the state of the
 * page that reads it.
 */
public final class KeyPages {
  /** Reads up to {@code limit} keys after a name (exclusive), in name order. */
  @FunctionalInterface
  public interface PageReader {
    List<KeyRecord> after(String name, int limit);
  }

  private KeyPages() {}

  /** The keys after {@code afterName} (exclusive; "" for all), in name order. */
  public static Iterable<KeyRecord> after(String afterName, PageReader pages) {
    return () ->
        new Iterator<>() {
          private List<KeyRecord> page = List.of();
          private int next;
          private String last = afterName;
          private boolean exhausted;

          @Override
          public boolean hasNext() {
            if (next < page.size()) {
              return true;
            }
            if (exhausted) {
              return false;
            }
            page = pages.after(last, RecordViews.PAGE);
            next = 0;
            exhausted = page.size() < RecordViews.PAGE;
            if (!page.isEmpty()) {
              last = page.get(page.size() - 1).getName();
            }
            return !page.isEmpty();
          }

          @Override
          public KeyRecord next() {
            if (!hasNext()) {
              throw new NoSuchElementException();
            }
            return page.get(next++);
          }
        };
  }
}
