package io.keyrotor.chaos.checker.linearizability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Decides whether a history is linearizable with respect to a {@link Model}: the Wing-Gong search
 * with Lowe's memoization, as Porcupine implements it (chaos-tests/README.md, "The checkers").
 *
 * <ol>
 *   <li><b>Per-key partitioning.</b> A history is linearizable iff each key's sub-history is (the
 *       models are per key), so keys are checked independently, in parallel, each with its own time
 *       and cache budget. A key that exceeds its budget is {@link KeyVerdict#UNKNOWN}.
 *   <li><b>Pre-processing, per key.</b> Indeterminate read-only operations constrain nothing and
 *       are dropped. If an indeterminate operation writes a value no other operation of the key
 *       writes, and some completed operation observed that value, the write happened before the
 *       first such observer completed: its completion is tightened to that time. If nothing
 *       observes or expects an indeterminate write's value and no completed operation observes an
 *       inequality (a failed compare-and-set), the write is dropped (it may be linearized "never").
 *   <li><b>Search.</b> Calls and returns in time order (calls first on ties, the more permissive
 *       order); the search linearizes pending calls depth-first, memoizing (linearized set, state)
 *       pairs, and backtracks at a return whose operation is not yet linearized. Indeterminate
 *       operations return at +infinity: they may be linearized anywhere after their invocation.
 *   <li><b>Output.</b> OK, ILLEGAL with the longest linearizable prefix the search reached and the
 *       operation it was stuck on, plus a shrunk counterexample, or UNKNOWN.
 * </ol>
 *
 * <p><b>Counterexamples.</b> On ILLEGAL the key's operations are shrunk greedily while the rest
 * stays ILLEGAL, removing only operations whose removal preserves linearizability (pure observers;
 * writes of unique values nothing left observes or expects, when no inequality observer is left).
 * So the shrunk set is itself a non-linearizable sub-history, and a proof of the anomaly.
 *
 * @param <S> the model state
 * @param <I> the model input
 * @param <O> the model output
 */
public final class LinearizabilityChecker<S, I, O> {

  /**
   * Limits per key: search time, memoized entries (each costs about 100-200 bytes for keys of a few
   * hundred operations) and the time spent shrinking a counterexample.
   */
  public record Budget(Duration perKeyTime, int perKeyCacheEntries, Duration perKeyShrinkTime) {
    /** 20 s, 500,000 entries, 5 s: enough for keys of up to ~200 operations on a 1 GB heap. */
    public static final Budget DEFAULT =
        new Budget(Duration.ofSeconds(20), 500_000, Duration.ofSeconds(5));

    public Budget {
      Objects.requireNonNull(perKeyTime, "perKeyTime");
      Objects.requireNonNull(perKeyShrinkTime, "perKeyShrinkTime");
      if (perKeyCacheEntries < 1) {
        throw new IllegalArgumentException("perKeyCacheEntries must be positive");
      }
    }
  }

  /** The verdict for one key. */
  public enum KeyVerdict {
    OK,
    ILLEGAL,
    UNKNOWN
  }

  /**
   * The result for one key.
   *
   * @param key the key
   * @param verdict OK, ILLEGAL or UNKNOWN
   * @param operations operations given for the key
   * @param searched operations left after pre-processing
   * @param droppedReads indeterminate reads dropped
   * @param droppedWrites unobserved indeterminate writes dropped
   * @param tightened indeterminate writes whose completion was tightened to their first observer
   * @param cacheEntries memoized configurations when the search ended
   * @param elapsed time spent on this key (search and shrinking)
   * @param longestPrefix on ILLEGAL, the longest linearization the search found, in order
   * @param stuckOrNull on ILLEGAL, the operation that could not be linearized after that prefix
   * @param counterexample on ILLEGAL, a shrunk non-linearizable subset, in invocation order
   * @param reasonOrNull on UNKNOWN, which budget ran out
   */
  public record KeyResult<I, O>(
      String key,
      KeyVerdict verdict,
      int operations,
      int searched,
      int droppedReads,
      int droppedWrites,
      int tightened,
      long cacheEntries,
      Duration elapsed,
      List<LinearizableOperation<I, O>> longestPrefix,
      LinearizableOperation<I, O> stuckOrNull,
      List<LinearizableOperation<I, O>> counterexample,
      String reasonOrNull) {}

  /** The results of all keys, ordered by key, and the wall time of the whole check. */
  public record Report<I, O>(List<KeyResult<I, O>> keys, Duration elapsed) {
    /** How many keys had the verdict. */
    public long count(KeyVerdict verdict) {
      return keys.stream().filter(k -> k.verdict() == verdict).count();
    }

    /** The result for one key, if it was checked. */
    public Optional<KeyResult<I, O>> key(String key) {
      return keys.stream().filter(k -> k.key().equals(key)).findFirst();
    }
  }

  private final Model<S, I, O> model;
  private final Budget budget;
  private final int threads;

  /** A checker against {@code model}, with a budget per key, checking keys on {@code threads}. */
  public LinearizabilityChecker(Model<S, I, O> model, Budget budget, int threads) {
    this.model = Objects.requireNonNull(model, "model");
    this.budget = Objects.requireNonNull(budget, "budget");
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be positive");
    }
    this.threads = threads;
  }

  /** A checker with {@link Budget#DEFAULT} on 2 threads (the CI machines' cores). */
  public static <S, I, O> LinearizabilityChecker<S, I, O> withDefaults(Model<S, I, O> model) {
    return new LinearizabilityChecker<>(model, Budget.DEFAULT, 2);
  }

  public Model<S, I, O> model() {
    return model;
  }

  /** Checks every key of {@code operations}, in parallel. Operation ids must be unique. */
  public Report<I, O> check(Collection<LinearizableOperation<I, O>> operations) {
    long start = System.nanoTime();
    Map<String, List<LinearizableOperation<I, O>>> byKey = new TreeMap<>();
    Set<Integer> ids = new HashSet<>();
    for (LinearizableOperation<I, O> operation : operations) {
      if (!ids.add(operation.id())) {
        throw new IllegalArgumentException("duplicate operation id " + operation.id());
      }
      byKey.computeIfAbsent(operation.key(), k -> new ArrayList<>()).add(operation);
    }
    List<KeyResult<I, O>> results = new ArrayList<>();
    if (threads == 1 || byKey.size() <= 1) {
      byKey.forEach((key, ops) -> results.add(checkKey(key, ops)));
    } else {
      ExecutorService pool =
          Executors.newFixedThreadPool(
              Math.min(threads, byKey.size()),
              runnable -> {
                Thread thread = new Thread(runnable, "linearizability-checker");
                thread.setDaemon(true);
                return thread;
              });
      try {
        List<Future<KeyResult<I, O>>> futures = new ArrayList<>();
        byKey.forEach((key, ops) -> futures.add(pool.submit(() -> checkKey(key, ops))));
        for (Future<KeyResult<I, O>> future : futures) {
          results.add(future.get());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while checking", e);
      } catch (ExecutionException e) {
        throw new IllegalStateException("a key's check failed", e.getCause());
      } finally {
        pool.shutdownNow();
      }
    }
    return new Report<>(List.copyOf(results), Duration.ofNanos(System.nanoTime() - start));
  }

  /** Checks the operations of one key. */
  public KeyResult<I, O> checkKey(String key, List<LinearizableOperation<I, O>> operations) {
    long start = System.nanoTime();
    Preprocessed<I, O> prepared = preprocess(operations);
    List<LinearizableOperation<I, O>> ops = prepared.operations();
    long deadline = start + budget.perKeyTime().toNanos();
    Search<I, O> search;
    try {
      search = search(ops, deadline, budget.perKeyCacheEntries());
    } catch (OutOfMemoryError e) {
      search = Search.unknown("out of memory", 0);
    }
    List<LinearizableOperation<I, O>> counterexample = List.of();
    if (search.verdict() == KeyVerdict.ILLEGAL) {
      counterexample = shrink(ops, System.nanoTime() + budget.perKeyShrinkTime().toNanos());
    }
    return new KeyResult<>(
        key,
        search.verdict(),
        operations.size(),
        ops.size(),
        prepared.droppedReads(),
        prepared.droppedWrites(),
        prepared.tightened(),
        search.cacheEntries(),
        Duration.ofNanos(System.nanoTime() - start),
        search.longestPrefix(),
        search.stuckOrNull(),
        counterexample,
        search.reasonOrNull());
  }

  record Preprocessed<I, O>(
      List<LinearizableOperation<I, O>> operations,
      int droppedReads,
      int droppedWrites,
      int tightened) {}

  /** The per-key pre-processing described in the class comment. */
  Preprocessed<I, O> preprocess(List<LinearizableOperation<I, O>> operations) {
    int droppedReads = 0;
    List<LinearizableOperation<I, O>> kept = new ArrayList<>();
    for (LinearizableOperation<I, O> op : operations) {
      if (!op.outputKnown() && model.isReadOnly(op.input())) {
        droppedReads++;
      } else {
        kept.add(op);
      }
    }
    Map<Object, Integer> writers = new HashMap<>();
    Map<Object, Long> firstObserverCompletion = new HashMap<>();
    Set<Object> expected = new HashSet<>();
    boolean inequalityObserved = false;
    for (LinearizableOperation<I, O> op : kept) {
      model
          .writtenValue(op.input(), op.output(), op.outputKnown())
          .ifPresent(v -> writers.merge(v, 1, Integer::sum));
      model.expectedValue(op.input()).ifPresent(expected::add);
      if (op.outputKnown()) {
        model
            .observedValue(op.input(), op.output())
            .ifPresent(v -> firstObserverCompletion.merge(v, op.completeNanos(), Math::min));
        inequalityObserved |= model.observesInequality(op.input(), op.output());
      }
    }
    Object initial = model.init();
    int droppedWrites = 0;
    int tightened = 0;
    List<LinearizableOperation<I, O>> result = new ArrayList<>(kept.size());
    for (LinearizableOperation<I, O> op : kept) {
      Optional<Object> written =
          op.outputKnown()
              ? Optional.empty()
              : model.writtenValue(op.input(), op.output(), op.outputKnown());
      if (written.isEmpty()) {
        result.add(op);
        continue;
      }
      Object value = written.get();
      Long observed = firstObserverCompletion.get(value);
      boolean unique = writers.get(value) == 1 && !value.equals(initial);
      if (observed != null && unique && op.neverCompletes() && observed >= op.invokeNanos()) {
        result.add(op.withCompleteNanos(observed));
        tightened++;
      } else if (observed == null && !expected.contains(value) && !inequalityObserved) {
        droppedWrites++;
      } else {
        result.add(op);
      }
    }
    return new Preprocessed<>(List.copyOf(result), droppedReads, droppedWrites, tightened);
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

  record Search<I, O>(
      KeyVerdict verdict,
      List<LinearizableOperation<I, O>> longestPrefix,
      LinearizableOperation<I, O> stuckOrNull,
      long cacheEntries,
      String reasonOrNull) {
    static <I, O> Search<I, O> unknown(String reason, long cacheEntries) {
      return new Search<>(KeyVerdict.UNKNOWN, List.of(), null, cacheEntries, reason);
    }
  }

  /** The WGL search with Lowe's memoization over one key's (pre-processed) operations. */
  Search<I, O> search(List<LinearizableOperation<I, O>> ops, long deadlineNanos, int cacheLimit) {
    int n = ops.size();
    List<Entry> entries = new ArrayList<>(2 * n);
    for (int i = 0; i < n; i++) {
      LinearizableOperation<I, O> op = ops.get(i);
      Entry call = new Entry(i, true, op.invokeNanos());
      Entry ret = new Entry(i, false, op.completeNanos());
      call.match = ret;
      entries.add(call);
      entries.add(ret);
    }
    // By time; on ties calls before returns (more overlap, fewer false alarms); then by position.
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
        return Search.unknown("time budget exceeded", cache.size());
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
              return Search.unknown("cache budget exceeded", cache.size());
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
          return new Search<>(
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
    return new Search<>(KeyVerdict.OK, List.of(), null, cache.size(), null);
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

  /**
   * Greedily removes chunks of operations (halving the chunk size when nothing can go) while the
   * rest stays ILLEGAL, within the deadline. Only removals that preserve linearizability are tried.
   */
  List<LinearizableOperation<I, O>> shrink(
      List<LinearizableOperation<I, O>> illegal, long deadlineNanos) {
    List<LinearizableOperation<I, O>> current = new ArrayList<>(illegal);
    int chunk = Math.max(1, current.size() / 2);
    while (System.nanoTime() < deadlineNanos) {
      boolean removedAny = false;
      for (int end = current.size(); end > 0 && System.nanoTime() < deadlineNanos; end -= chunk) {
        int start = Math.max(0, end - chunk);
        Set<LinearizableOperation<I, O>> removal =
            removable(current, new LinkedHashSet<>(current.subList(start, end)));
        if (removal.isEmpty()) {
          continue;
        }
        List<LinearizableOperation<I, O>> candidate = new ArrayList<>(current);
        candidate.removeAll(removal);
        long subDeadline = Math.min(deadlineNanos, System.nanoTime() + 500_000_000L);
        Search<I, O> search = search(candidate, subDeadline, budget.perKeyCacheEntries());
        if (search.verdict() == KeyVerdict.ILLEGAL) {
          current = candidate;
          removedAny = true;
        }
      }
      if (!removedAny) {
        if (chunk == 1) {
          break;
        }
        chunk = Math.max(1, chunk / 2);
      }
    }
    current.sort(
        Comparator.comparingLong((LinearizableOperation<I, O> o) -> o.invokeNanos())
            .thenComparingInt(LinearizableOperation::id));
    return List.copyOf(current);
  }

  /**
   * The subset of {@code candidates} that can be removed from {@code all} without turning a
   * linearizable history into a non-linearizable one: operations that never change the state, and
   * writes of a value written only once that no remaining operation observes or expects, if no
   * remaining operation observes an inequality.
   */
  private Set<LinearizableOperation<I, O>> removable(
      List<LinearizableOperation<I, O>> all, Set<LinearizableOperation<I, O>> candidates) {
    Map<Object, Integer> writers = new HashMap<>();
    for (LinearizableOperation<I, O> op : all) {
      model
          .writtenValue(op.input(), op.output(), op.outputKnown())
          .ifPresent(v -> writers.merge(v, 1, Integer::sum));
    }
    Set<LinearizableOperation<I, O>> removal = new LinkedHashSet<>(candidates);
    boolean changed = true;
    while (changed) {
      changed = false;
      Set<Object> referenced = new HashSet<>();
      boolean inequality = false;
      for (LinearizableOperation<I, O> op : all) {
        if (removal.contains(op)) {
          continue;
        }
        model.expectedValue(op.input()).ifPresent(referenced::add);
        if (op.outputKnown()) {
          model.observedValue(op.input(), op.output()).ifPresent(referenced::add);
          inequality |= model.observesInequality(op.input(), op.output());
        }
      }
      for (var iterator = removal.iterator(); iterator.hasNext(); ) {
        LinearizableOperation<I, O> op = iterator.next();
        if (!model.mayChangeState(op.input(), op.output(), op.outputKnown())) {
          continue;
        }
        Optional<Object> written = model.writtenValue(op.input(), op.output(), op.outputKnown());
        boolean removableWrite =
            written.isPresent()
                && writers.get(written.get()) == 1
                && !written.get().equals(model.init())
                && !referenced.contains(written.get())
                && !inequality;
        if (!removableWrite) {
          iterator.remove();
          changed = true;
        }
      }
    }
    return removal;
  }
}
