package io.keyrotor.server;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.EnableKeyVersionRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotationPolicy;

/** The key API requests the integration tests send again and again, each built in one place. */
final class KeyRequests {
  private KeyRequests() {}

  /** CreateKey {@code name}, all else default (zone "default", no policy). */
  static CreateKeyRequest newKey(String name) {
    return CreateKeyRequest.newBuilder().setName(name).build();
  }

  /** CreateKey {@code name} in {@code zone}. */
  static CreateKeyRequest newKey(String name, String zone) {
    return CreateKeyRequest.newBuilder().setName(name).setZone(zone).build();
  }

  /** CreateKey {@code name} with a rotation policy. */
  static CreateKeyRequest newKey(String name, RotationPolicy.Builder policy) {
    return CreateKeyRequest.newBuilder().setName(name).setRotationPolicy(policy).build();
  }

  /** RotateKey {@code name}, activating as its policy (or the node's default) says. */
  static RotateKeyRequest rotation(String name) {
    return RotateKeyRequest.newBuilder().setName(name).build();
  }

  /** RotateKey {@code name}, activating {@code delaySeconds} after the leader's time. */
  static RotateKeyRequest rotation(String name, long delaySeconds) {
    return RotateKeyRequest.newBuilder()
        .setName(name)
        .setActivationDelay(seconds(delaySeconds))
        .build();
  }

  /** Encrypt {@code plaintext} (its UTF-8 bytes) under key {@code name}, no context. */
  static EncryptRequest encryption(String name, String plaintext) {
    return EncryptRequest.newBuilder()
        .setKeyName(name)
        .setPlaintext(ByteString.copyFromUtf8(plaintext))
        .build();
  }

  /** Decrypt {@code ciphertext}, no context. */
  static DecryptRequest decryption(ByteString ciphertext) {
    return DecryptRequest.newBuilder().setCiphertext(ciphertext).build();
  }

  static GetKeyRequest key(String name) {
    return GetKeyRequest.newBuilder().setName(name).build();
  }

  static DisableKeyVersionRequest disable(String name, int version) {
    return DisableKeyVersionRequest.newBuilder().setName(name).setVersion(version).build();
  }

  static EnableKeyVersionRequest enable(String name, int version) {
    return EnableKeyVersionRequest.newBuilder().setName(name).setVersion(version).build();
  }

  static Duration seconds(long seconds) {
    return Duration.newBuilder().setSeconds(seconds).build();
  }
}
