package io.keyrotor.chaos.checker.linearizability;

import io.keyrotor.chaos.checker.linearizability.LinearizabilityChecker.KeyVerdict;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The Wing-Gong search with Lowe's memoization over one key's operations, as Porcupine implements
 * it: calls and returns in time order (calls first on ties), pending calls linearized depth-first,
 * (linearized set, state) pairs memoized, backtracking at a return whose operation is not yet
 * linearized. Kept as one method: the event list, the stack and the cache are one algorithm's
 * state, and splitting the loop would only pass them around.
 */
final class WglSearch<S, I, O> {
  /** What a search found. */
  record Result<I, O>(
      KeyVerdict verdict,
      List<LinearizableOperation<I, O>> longestPrefix,
      LinearizableOperation<I, O> stuckOrNull,
      long cacheEntries,
      String reasonOrNull) {
    static <I, O> Result<I, O> unknown(String reason, long cacheEntries) {
      return new Result<>(KeyVerdict.UNKNOWN, List.of(), null, cacheEntries, reason);
    }
  }

  /** One node of the event list: the call or the return of an operation. */
  private static final class Entry {
    final int op;
    final boolean call;
    final long time;
    Entry match;
    Entry prev;
    Entry next;

    Entry(int op, boolean call, long time) {
      this.op = op;
      this.call = call;
      this.time = time;
    }
  }

  private record CacheKey(BitSet linearized, Object state) {}

  private final Model<S, I, O> model;

  WglSearch(Model<S, I, O> model) {
    this.model = model;
  }

  /**
   * Searches {@code ops} for a linearization; UNKNOWN once {@code deadlineNanos} passes or the
   * cache holds more than {@code cacheLimit} entries.
   */
  Result<I, O> run(List<LinearizableOperation<I, O>> ops, long deadlineNanos, int cacheLimit) {
    int n = ops.size();
    Entry head = eventList(ops);
    Object state = model.init();
    BitSet linearized = new BitSet(n);
    Set<CacheKey> cache = new HashSet<>();
    Entry[] stackEntries = new Entry[n];
    Object[] stackStates = new Object[n];
    int depth = 0;
    int bestDepth = 0;
    int[] bestPrefix = new int[0];
    int stuck = -1;
    long steps = 0;
    Entry entry = head.next;
    while (head.next != null) {
      if ((++steps & 0x3FF) == 0 && System.nanoTime() > deadlineNanos) {
        return Result.unknown("time budget exceeded", cache.size());
      }
      if (entry.call) {
        LinearizableOperation<I, O> op = ops.get(entry.op);
        @SuppressWarnings("unchecked")
        S current = (S) state;
        S next = model.stepOrNull(current, op.input(), op.output(), op.outputKnown());
        if (next != null) {
          linearized.set(entry.op);
          if (!cache.contains(new CacheKey(linearized, next))) {
            cache.add(new CacheKey((BitSet) linearized.clone(), next));
            if (cache.size() > cacheLimit) {
              return Result.unknown("cache budget exceeded", cache.size());
            }
            stackEntries[depth] = entry;
            stackStates[depth] = state;
            depth++;
            state = next;
            lift(entry);
            if (depth > bestDepth) {
              bestDepth = depth;
              bestPrefix = new int[depth];
              for (int i = 0; i < depth; i++) {
                bestPrefix[i] = stackEntries[i].op;
              }
              stuck = -1;
            }
            entry = head.next;
            continue;
          }
          linearized.clear(entry.op);
        }
        entry = entry.next;
      } else {
        if (depth == bestDepth && stuck < 0) {
          stuck = entry.op;
        }
        if (depth == 0) {
          List<LinearizableOperation<I, O>> prefix = new ArrayList<>();
          for (int i : bestPrefix) {
            prefix.add(ops.get(i));
          }
          return new Result<>(
              KeyVerdict.ILLEGAL,
              List.copyOf(prefix),
              stuck < 0 ? null : ops.get(stuck),
              cache.size(),
              null);
        }
        depth--;
        Entry popped = stackEntries[depth];
        state = stackStates[depth];
        stackEntries[depth] = null;
        stackStates[depth] = null;
        linearized.clear(popped.op);
        unlift(popped);
        entry = popped.next;
      }
    }
    return new Result<>(KeyVerdict.OK, List.of(), null, cache.size(), null);
  }

  /**
   * The calls and returns of {@code ops} as a doubly linked list behind a sentinel head: by time;
   * on ties calls before returns (more overlap, fewer false alarms); then by position.
   */
  private static <I, O> Entry eventList(List<LinearizableOperation<I, O>> ops) {
    List<Entry> entries = new ArrayList<>(2 * ops.size());
    for (int i = 0; i < ops.size(); i++) {
      LinearizableOperation<I, O> op = ops.get(i);
      Entry call = new Entry(i, true, op.invokeNanos());
      Entry ret = new Entry(i, false, op.completeNanos());
      call.match = ret;
      entries.add(call);
      entries.add(ret);
    }
    entries.sort(
        Comparator.comparingLong((Entry e) -> e.time)
            .thenComparing(e -> !e.call)
            .thenComparingInt(e -> e.op));
    Entry head = new Entry(-1, false, Long.MIN_VALUE);
    Entry last = head;
    for (Entry entry : entries) {
      last.next = entry;
      entry.prev = last;
      last = entry;
    }
    return head;
  }

  /** Unlinks a call and its return. */
  private static void lift(Entry call) {
    call.prev.next = call.next;
    if (call.next != null) {
      call.next.prev = call.prev;
    }
    Entry ret = call.match;
    ret.prev.next = ret.next;
    if (ret.next != null) {
      ret.next.prev = ret.prev;
    }
  }

  /** The exact inverse of {@link #lift}: the return goes back first, then the call. */
  private static void unlift(Entry call) {
    Entry ret = call.match;
    ret.prev.next = ret;
    if (ret.next != null) {
      ret.next.prev = ret;
    }
    call.prev.next = call;
    if (call.next != null) {
      call.next.prev = call;
    }
  }
}
