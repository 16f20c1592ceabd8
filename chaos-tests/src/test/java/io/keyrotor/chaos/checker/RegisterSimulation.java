package io.keyrotor.chaos.checker;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.keyrotor.chaos.history.EventType;
import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.SyntheticHistory;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A seeded simulation of a correct (linearizable) key store with concurrent clients: every
 * operation takes effect at a random point inside its interval, in one total order. Some operations
 * time out ({@code info}): they take effect or not (a coin toss), and the client continues under a
 * new process. Histories it produces are linearizable by construction; the mutations make them
 * certainly not.
 */
public final class RegisterSimulation {
  /** What is simulated. */
  public enum Kind {
    /** {@code write} v / {@code read}: a plain register, initially unset. */
    REGISTER,
    /**
     * W2: {@code activate} {v, expected} / {@code get-primary} with revisions; primary 1 at first.
     */
    CAS_REGISTER,
    /** W1: {@code rotate} / {@code list-versions}; version 1 exists at first. */
    LIST
  }

  /** One simulated operation. */
  public record SimOp(
      int process,
      String node,
      String key,
      String f,
      JsonElement input,
      long invoke,
      long complete,
      EventType outcome,
      JsonElement output,
      Long rev,
      String error) {
    SimOp moved(int newProcess, long newInvoke, long newComplete) {
      return new SimOp(
          newProcess, node, key, f, input, newInvoke, newComplete, outcome, output, rev, error);
    }

    SimOp withOutput(JsonElement newOutput) {
      return new SimOp(
          process, node, key, f, input, invoke, complete, outcome, newOutput, rev, error);
    }

    /** This operation as one whose client gave up: info, no output, DEADLINE_EXCEEDED. */
    SimOp timedOut() {
      return new SimOp(
          process,
          node,
          key,
          f,
          input,
          invoke,
          complete,
          EventType.INFO,
          null,
          null,
          "DEADLINE_EXCEEDED");
    }
  }

  private RegisterSimulation() {}

  private static final class Draft {
    int process;
    String node;
    String key;
    String f;
    JsonElement input;
    long invoke;
    long linearize;
    long complete;
    boolean timesOut;
    boolean applies = true;
    Long expected;
    long value;
    SimOp result;
  }

  /**
   * Simulates {@code clients} clients, each running {@code opsPerClient} operations on random keys
   * among {@code keys}; a fraction {@code infoRate} of operations time out.
   */
  public static List<SimOp> run(
      long seed, Kind kind, int clients, int keys, int opsPerClient, double infoRate) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Draft> drafts = new ArrayList<>();
    int nextProcess = clients;
    long nextValue = 2;
    Map<String, Long> lastSeen = new HashMap<>();
    for (int client = 0; client < clients; client++) {
      long time = random.nextLong(0, 2_000);
      int process = client;
      for (int i = 0; i < opsPerClient; i++) {
        Draft d = new Draft();
        d.process = process;
        d.node = "n" + (client % 3 + 1);
        d.key = "k" + random.nextInt(keys);
        d.invoke = time + random.nextLong(1, 2_000);
        d.linearize = d.invoke + random.nextLong(1, 3_000);
        d.complete = d.linearize + random.nextLong(1, 3_000);
        d.timesOut = random.nextDouble() < infoRate;
        d.applies = !d.timesOut || random.nextBoolean();
        boolean write = random.nextDouble() < 0.45;
        switch (kind) {
          case REGISTER -> {
            d.f = write ? "write" : "read";
            if (write) {
              d.value = nextValue++;
              d.input = new JsonPrimitive(d.value);
            }
          }
          case CAS_REGISTER -> {
            d.f = write ? "activate" : "get-primary";
            if (write) {
              d.value = nextValue++;
              long expected = lastSeen.getOrDefault(d.key, 1L);
              if (random.nextDouble() < 0.2) {
                expected = random.nextLong(1, nextValue);
              }
              d.expected = expected;
              JsonObject input = new JsonObject();
              input.addProperty("version", d.value);
              input.addProperty("expected", expected);
              d.input = input;
            }
          }
          case LIST -> d.f = write ? "rotate" : "list-versions";
        }
        drafts.add(d);
        if (d.timesOut) {
          process = nextProcess++;
        }
        time = d.complete;
        if (kind == Kind.CAS_REGISTER && write) {
          lastSeen.put(d.key, d.value);
        }
      }
    }
    // Apply in linearization order to one correct state per key.
    List<Draft> byLinearization = new ArrayList<>(drafts);
    byLinearization.sort(Comparator.comparingLong((Draft d) -> d.linearize));
    Map<String, Object> register = new HashMap<>();
    Map<String, Long> revision = new HashMap<>();
    Map<String, Integer> listLength = new HashMap<>();
    for (Draft d : byLinearization) {
      long rev = revision.getOrDefault(d.key, 10L);
      JsonElement output = null;
      Long outputRev = null;
      EventType outcome = EventType.OK;
      String error = null;
      switch (d.f) {
        case "write" -> {
          if (d.applies) {
            register.put(d.key, d.value);
          }
        }
        case "read" -> {
          Object value = register.get(d.key);
          output = value == null ? null : new JsonPrimitive((Long) value);
        }
        case "activate" -> {
          long primary = (Long) register.getOrDefault(d.key, 1L);
          if (primary == d.expected) {
            if (d.applies) {
              register.put(d.key, d.value);
              revision.put(d.key, rev + 1);
              outputRev = rev + 1;
            }
          } else {
            outcome = EventType.FAIL;
            error = "FAILED_PRECONDITION: CONFLICT";
          }
        }
        case "get-primary" -> {
          JsonObject value = new JsonObject();
          value.addProperty("version", (Long) register.getOrDefault(d.key, 1L));
          output = value;
          outputRev = rev;
        }
        case "rotate" -> {
          if (d.applies) {
            int length = listLength.getOrDefault(d.key, 1) + 1;
            listLength.put(d.key, length);
            JsonObject value = new JsonObject();
            value.addProperty("version", length);
            output = value;
          }
        }
        case "list-versions" -> {
          JsonArray versions = new JsonArray();
          for (int v = 1; v <= listLength.getOrDefault(d.key, 1); v++) {
            versions.add(v);
          }
          output = versions;
        }
        default -> throw new IllegalStateException(d.f);
      }
      d.result =
          new SimOp(
              d.process,
              d.node,
              d.key,
              d.f,
              d.input,
              d.invoke,
              d.complete,
              outcome,
              output,
              outputRev,
              error);
      if (d.timesOut) {
        d.result = d.result.timedOut();
      }
    }
    List<SimOp> result = new ArrayList<>();
    for (Draft d : drafts) {
      result.add(d.result);
    }
    return result;
  }

  /** The simulated operations as a validated history. */
  public static History history(List<SimOp> ops) {
    SyntheticHistory history = new SyntheticHistory();
    for (SimOp op : ops) {
      history.op(
          op.process(),
          op.node(),
          op.f(),
          op.key(),
          op.input(),
          op.invoke(),
          op.outcome(),
          op.complete(),
          op.output(),
          op.rev(),
          op.error());
    }
    return history.build();
  }

  private static boolean isWrite(SimOp op) {
    return op.f().equals("write") || op.f().equals("activate");
  }

  private static boolean isRead(SimOp op) {
    return op.f().equals("read") || op.f().equals("get-primary");
  }

  private static Long writtenValue(SimOp op) {
    JsonElement input = op.input();
    return input.isJsonPrimitive()
        ? input.getAsLong()
        : input.getAsJsonObject().get("version").getAsLong();
  }

  private static Long readValue(SimOp op) {
    JsonElement output = op.output();
    if (output == null) {
      return null;
    }
    return output.isJsonPrimitive()
        ? output.getAsLong()
        : output.getAsJsonObject().get("version").getAsLong();
  }

  private static JsonElement readOutput(SimOp like, long value) {
    if (like.f().equals("read")) {
      return new JsonPrimitive(value);
    }
    JsonObject output = new JsonObject();
    output.addProperty("version", value);
    return output;
  }

  /**
   * The result of a mutation: the mutated operations, the operations any counterexample must name,
   * and the value at stake (a counterexample must name an operation that reads, writes or expects
   * it), or null.
   */
  public record Mutation(
      List<SimOp> ops, List<SimOp> culprits, Long valueOrNull, String description) {}

  /**
   * A stale read: a read R returns the value of an acknowledged write W1 although another
   * acknowledged write W2 completed after W1 and before R was invoked. Null if no such triple.
   */
  public static Mutation staleRead(List<SimOp> ops) {
    for (SimOp read : ops) {
      if (!isRead(read) || read.outcome() != EventType.OK) {
        continue;
      }
      for (SimOp second : ops) {
        if (!isWrite(second)
            || second.outcome() != EventType.OK
            || !second.key().equals(read.key())
            || second.complete() >= read.invoke()) {
          continue;
        }
        for (SimOp first : ops) {
          if (isWrite(first)
              && first.outcome() == EventType.OK
              && first.key().equals(read.key())
              && first.complete() < second.invoke()) {
            List<SimOp> mutated = new ArrayList<>(ops);
            SimOp stale = read.withOutput(readOutput(read, writtenValue(first)));
            mutated.set(ops.indexOf(read), stale);
            return new Mutation(mutated, List.of(stale), null, "stale read");
          }
        }
      }
    }
    return null;
  }

  /** An acknowledged write and a completed read that returned its value. */
  private record ObservedWrite(SimOp write, SimOp read) {}

  /** The first acknowledged write whose value a completed read returned, and that read; or null. */
  private static ObservedWrite firstObservedWrite(List<SimOp> ops) {
    for (SimOp write : ops) {
      if (!isWrite(write) || write.outcome() != EventType.OK) {
        continue;
      }
      for (SimOp read : ops) {
        if (isRead(read)
            && read.outcome() == EventType.OK
            && read.key().equals(write.key())
            && writtenValue(write).equals(readValue(read))) {
          return new ObservedWrite(write, read);
        }
      }
    }
    return null;
  }

  /** Drops an acknowledged write whose value a completed read returned. Null if none. */
  public static Mutation dropWrite(List<SimOp> ops) {
    ObservedWrite observed = firstObservedWrite(ops);
    if (observed == null) {
      return null;
    }
    List<SimOp> mutated = new ArrayList<>(ops);
    mutated.remove(observed.write());
    return new Mutation(mutated, List.of(), writtenValue(observed.write()), "dropped write");
  }

  /**
   * Moves an acknowledged write (to a fresh process) so that it is invoked after a read that
   * returned its value completed; with {@code asInfo} the moved write is also indeterminate. Null
   * if no write was read.
   */
  public static Mutation writeAfterObserver(List<SimOp> ops, boolean asInfo) {
    ObservedWrite observed = firstObservedWrite(ops);
    if (observed == null) {
      return null;
    }
    SimOp write = observed.write();
    SimOp read = observed.read();
    int fresh = ops.stream().mapToInt(SimOp::process).max().orElse(0) + 1;
    SimOp moved = write.moved(fresh, read.complete() + 1, read.complete() + 2);
    if (asInfo) {
      moved = moved.timedOut();
    }
    List<SimOp> mutated = new ArrayList<>(ops);
    mutated.set(ops.indexOf(write), moved);
    return new Mutation(
        mutated, List.of(moved), writtenValue(write), "write invoked after its observer");
  }

  /**
   * Shortens a list read invoked after a rotation was acknowledged so that it lacks that version.
   * Null if no read follows an acknowledged rotation.
   */
  public static Mutation truncatedListRead(List<SimOp> ops) {
    for (SimOp rotate : ops) {
      if (!rotate.f().equals("rotate") || rotate.outcome() != EventType.OK) {
        continue;
      }
      long version = rotate.output().getAsJsonObject().get("version").getAsLong();
      for (SimOp read : ops) {
        if (read.f().equals("list-versions")
            && read.outcome() == EventType.OK
            && read.key().equals(rotate.key())
            && rotate.complete() < read.invoke()) {
          JsonArray shorter = new JsonArray();
          for (long v = 1; v < version; v++) {
            shorter.add(v);
          }
          List<SimOp> mutated = new ArrayList<>(ops);
          SimOp truncated = read.withOutput(shorter);
          mutated.set(ops.indexOf(read), truncated);
          return new Mutation(mutated, List.of(truncated), null, "list read missing an ack");
        }
      }
    }
    return null;
  }
}
