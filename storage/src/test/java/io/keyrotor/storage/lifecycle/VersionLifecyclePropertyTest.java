package io.keyrotor.storage.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.rpc.Code;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyEventRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import io.keyrotor.storage.apply.RandomCommands;
import io.keyrotor.storage.lifecycle.VersionLifecycle.Move;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * Seeded random command sequences of every kind (valid and invalid, several keys, time moving
 * forward, compromise rotations, floors, destroy schedules, cancels, rollbacks, acknowledgements),
 * applied through the dispatcher to an in-memory view. After every command:
 *
 * <ol>
 *   <li>every change of a version's stored status is a move of {@link VersionLifecycle}, and
 *   <li>every move emits exactly one event of the table's type for that key and version.
 * </ol>
 *
 * Both are checked at once: a version's <em>status events</em> in one command, in order, must trace
 * a path of table moves from its status before the command (or from nothing, for a new version) to
 * its status after it. No status event and no change is the empty path; a change without its event,
 * an event without its change, a second event for one move and a move the table does not have all
 * fail.
 *
 * <p>Status events are the events the table's moves emit (PENDING, ACTIVATED, ENABLED, DISABLED,
 * CANCELLED, DESTROY_SCHEDULED, DESTROY_CANCELLED, DESTROYED), with one exception: for a version
 * that existed before the command, ACTIVATED is not counted, because it also reports a change of a
 * derived state with no stored move (RecordActivation when a pending version's activation time
 * passed, or a rollback making an older version primary again). The other event types are never
 * status events: CREATED (the key exists), ACKNOWLEDGED (a node validated a version), SUPERSEDED (a
 * primary was replaced, by time), ROLLED_BACK (a primary demoted from an effective time; it keeps
 * its status) and POLICY_CHANGED (a policy, floors or dependents changed) accompany commands that
 * move no status of their own.
 *
 * <p>A failure names its seed; {@code -Dkeyrotor.lifecycle.seed=S} runs that sequence alone.
 */
class VersionLifecyclePropertyTest {
  private static final String SEED_PROPERTY = "keyrotor.lifecycle.seed";
  private static final long FIRST_SEED = 0x11FEC1C1EL;
  private static final int SEQUENCES = 200;
  private static final int COMMANDS_PER_SEQUENCE = 200;

  /** The event types the table's moves emit. */
  private static final Set<KeyEventType> MOVE_EVENTS = EnumSet.noneOf(KeyEventType.class);

  static {
    for (Move move : Move.values()) {
      MOVE_EVENTS.add(move.event());
    }
  }

  @Test
  void randomCommandSequences_changeStatusesOnlyByTableMoves_eachWithItsOneEvent() {
    String only = System.getProperty(SEED_PROPERTY);
    long[] seeds =
        only != null
            ? new long[] {Long.decode(only)}
            : LongStream.range(FIRST_SEED, FIRST_SEED + SEQUENCES).toArray();
    Map<Move, Integer> made = new EnumMap<>(Move.class);
    for (long seed : seeds) {
      runSequence(seed, made);
    }
    if (only == null) {
      assertEquals(
          EnumSet.allOf(Move.class), made.keySet(), "the sequences made every move: " + made);
    }
  }

  private static void runSequence(long seed, Map<Move, Integer> made) {
    InMemoryState view = new InMemoryState();
    RandomCommands commands = new RandomCommands(seed);
    Set<String> requestIds = new HashSet<>();
    for (int n = 1; n <= COMMANDS_PER_SEQUENCE; n++) {
      Command command = commands.next(view.keyMap(), view.zoneMap());
      if (!requestIds.add(command.getRequestId())) {
        continue; // a retried request: the store returns its first result and changes nothing
      }
      Map<String, KeyRecord> before = new TreeMap<>(view.keyMap());
      Effects effects = view.apply(command);
      String where =
          "seed "
              + seed
              + " (-D"
              + SEED_PROPERTY
              + "="
              + seed
              + "), command "
              + n
              + " "
              + command.getBodyCase()
              + ", result "
              + Code.forNumber(effects.result().getCode())
              + " "
              + effects.result().getReason()
              + ": ";
      if (effects.result().getCode() != Code.OK_VALUE) {
        assertTrue(effects.allKeyWrites().isEmpty(), where + "a refused command writes no key");
        assertTrue(effects.events().isEmpty(), where + "a refused command emits no event");
      }
      checkStatusChanges(before, view.keyMap(), effects.events(), command, where, made);
    }
  }

  private static void checkStatusChanges(
      Map<String, KeyRecord> before,
      Map<String, KeyRecord> after,
      List<KeyEventRecord> events,
      Command command,
      String where,
      Map<Move, Integer> made) {
    assertTrue(after.keySet().containsAll(before.keySet()), where + "keys are never removed");
    for (KeyEventRecord event : events) {
      KeyEventType type = KeyEventType.forNumber(event.getType());
      KeyRecord key = after.get(event.getKeyName());
      if (MOVE_EVENTS.contains(type)
          && (key == null
              || event.getVersion() < 1
              || event.getVersion() > key.getVersionsCount())) {
        fail(where + type + " for a version that does not exist: " + event);
      }
    }
    for (KeyRecord key : after.values()) {
      KeyRecord old = before.get(key.getName());
      int oldCount = old == null ? 0 : old.getVersionsCount();
      assertTrue(key.getVersionsCount() >= oldCount, where + "versions are never removed");
      for (KeyVersionRecord version : key.getVersionsList()) {
        VersionStatus from = version.getVersion() <= oldCount ? statusIn(old, version) : null;
        List<KeyEventType> statusEvents = statusEvents(events, key.getName(), version, from);
        List<Move> path = trace(from, statusEvents, version.getStatus(), command, where, key);
        path.forEach(move -> made.merge(move, 1, Integer::sum));
      }
    }
  }

  private static VersionStatus statusIn(KeyRecord old, KeyVersionRecord version) {
    return old.getVersions(version.getVersion() - 1).getStatus();
  }

  /** The status events of one version, in order; {@code from} is null for a new version. */
  private static List<KeyEventType> statusEvents(
      List<KeyEventRecord> events, String key, KeyVersionRecord version, VersionStatus from) {
    List<KeyEventType> out = new ArrayList<>();
    for (KeyEventRecord event : events) {
      KeyEventType type = KeyEventType.forNumber(event.getType());
      boolean derived = type == KeyEventType.KEY_EVENT_TYPE_ACTIVATED && from != null;
      if (event.getKeyName().equals(key)
          && event.getVersion() == version.getVersion()
          && MOVE_EVENTS.contains(type)
          && !derived) {
        out.add(type);
      }
    }
    return out;
  }

  /**
   * The moves that lead from {@code from} (null: a new version) through {@code events} to {@code
   * to}, or a failure that says where the version left the table.
   */
  private static List<Move> trace(
      VersionStatus from,
      List<KeyEventType> events,
      VersionStatus to,
      Command command,
      String where,
      KeyRecord key) {
    String version = "key " + key.getName() + ": from " + from + " to " + to + " with " + events;
    List<Move> path = new ArrayList<>();
    VersionStatus status = from;
    for (KeyEventType event : events) {
      List<Move> candidates = new ArrayList<>();
      for (Move move : Move.values()) {
        boolean starts = status == null ? move.isEntry() : move.startsFrom(status);
        if (starts && move.event() == event) {
          candidates.add(move);
        }
      }
      if (candidates.isEmpty()) {
        fail(where + version + ": no move of the table emits " + event + " from " + status);
      }
      Move move = whichOf(candidates, command, where + version);
      path.add(move);
      status = move.to();
    }
    if (status != to) {
      fail(where + version + ": the events lead to " + status + ", the stored status is " + to);
    }
    return path;
  }

  /**
   * The move a step was. Moves that share where they start, where they end and their event (the
   * disables) are told apart by the command that made them.
   */
  private static Move whichOf(List<Move> candidates, Command command, String where) {
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    Move move =
        switch (command.getBodyCase()) {
          case SET_VERSION_STATUS -> Move.DISABLE;
          case ROTATE_KEY, ROTATE_KEYS -> Move.DISABLE_BY_COMPROMISE;
          case SET_VERSION_FLOORS -> Move.DISABLE_BELOW_FLOOR;
          default -> null;
        };
    if (move == null || !candidates.contains(move)) {
      fail(where + ": " + command.getBodyCase() + " made one of " + candidates);
    }
    return move;
  }
}
