package io.keyrotor.storage.apply;

import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.storage.KeyVersions;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * The transition of a command about one version of a key, which {@link #findingVersion} looks up
 * first: the handler starts at its own rule.
 *
 * @param <C> the command's body
 */
@FunctionalInterface
public interface VersionHandler<C> {
  /** The effects of {@code command} on {@code target}, the version it names. */
  Effects apply(C command, VersionTarget target, CommandContext context);

  /**
   * The handler of commands naming a version by key {@code name} and {@code version} number: it
   * finds the version, or refuses with KEY_NOT_FOUND or VERSION_NOT_FOUND, and applies {@code
   * handler} to it.
   */
  static <C> CommandHandler<C> findingVersion(
      Function<C, String> name, ToIntFunction<C> version, VersionHandler<C> handler) {
    return KeyHandler.findingKey(
        name,
        (command, key, context) -> {
          int number = version.applyAsInt(command);
          Optional<KeyVersionRecord> found = KeyVersions.find(key, number);
          return found.isPresent()
              ? handler.apply(command, new VersionTarget(key, found.get()), context)
              : context.versionNotFound(key, number);
        });
  }
}
