package io.keyrotor.chaos.checker.linearizability;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
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
 * <p>The steps live in {@link IndeterminatePruning}, {@link WglSearch} and {@link
 * CounterexampleShrinker}; this class partitions by key, runs them within the budgets and reports.
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
    IndeterminatePruning.Pruned<I, O> pruned = new IndeterminatePruning<>(model).prune(operations);
    List<LinearizableOperation<I, O>> ops = pruned.operations();
    long deadline = start + budget.perKeyTime().toNanos();
    WglSearch<S, I, O> wgl = new WglSearch<>(model);
    WglSearch.Result<I, O> search;
    try {
      search = wgl.run(ops, deadline, budget.perKeyCacheEntries());
    } catch (OutOfMemoryError e) {
      search = WglSearch.Result.unknown("out of memory", 0);
    }
    List<LinearizableOperation<I, O>> counterexample = List.of();
    if (search.verdict() == KeyVerdict.ILLEGAL) {
      counterexample =
          new CounterexampleShrinker<>(model, wgl, budget.perKeyCacheEntries())
              .shrink(ops, System.nanoTime() + budget.perKeyShrinkTime().toNanos());
    }
    return new KeyResult<>(
        key,
        search.verdict(),
        operations.size(),
        ops.size(),
        pruned.droppedReads(),
        pruned.droppedWrites(),
        pruned.tightened(),
        search.cacheEntries(),
        Duration.ofNanos(System.nanoTime() - start),
        search.longestPrefix(),
        search.stuckOrNull(),
        counterexample,
        search.reasonOrNull());
  }
}
