package io.keyrotor.storage.apply;

import io.keyrotor.proto.internal.v1.KeyRecord;
import java.util.Optional;
import java.util.function.Function;

/**
 * The transition of a command about an existing key, which {@link #findingKey} looks up first: the
 * handler starts at its own rule.
 *
 * @param <C> the command's body
 */
@FunctionalInterface
public interface KeyHandler<C> {
  /** The effects of {@code command} on {@code key}, the key it names as the context reads it. */
  Effects apply(C command, KeyRecord key, CommandContext context);

  /**
   * The handler of commands naming a key by {@code name}: it finds the key, or refuses with
   * KEY_NOT_FOUND, and applies {@code handler} to it.
   */
  static <C> CommandHandler<C> findingKey(Function<C, String> name, KeyHandler<C> handler) {
    return (command, context) -> {
      String keyName = name.apply(command);
      Optional<KeyRecord> key = context.state().key(keyName);
      return key.isPresent()
          ? handler.apply(command, key.get(), context)
          : context.keyNotFound(keyName);
    };
  }
}
