package io.keyrotor.client.architecturefixture;

import io.opentelemetry.sdk.trace.SdkTracerProvider;

/** Deliberately bad: an SDK class that builds the OpenTelemetry SDK instead of taking the API. */
public final class TracingSdkUser {
  private TracingSdkUser() {}

  public static SdkTracerProvider provider() {
    return SdkTracerProvider.builder().build();
  }
}
