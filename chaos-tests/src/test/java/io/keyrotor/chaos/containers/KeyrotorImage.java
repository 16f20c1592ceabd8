package io.keyrotor.chaos.containers;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.utility.DockerImageName;

/**
 * The keyrotor node image, built locally through the engine's build API: {@code FROM scratch} plus
 * the server's shaded jar at {@value #JAR_IN_IMAGE}. No registry is reached: the base is empty, and
 * the JDK, {@code nft} and the C library come from the host, bind-mounted read-only by {@link
 * KeyrotorContainer} (so a container runs the very JDK the build was tested with).
 *
 * <p>The tag is the jar's SHA-256 prefix, so an unchanged jar is built once and found in the
 * engine's image store afterwards ({@code localhost/...} names are never pulled).
 */
public final class KeyrotorImage {
  /** Where the server jar is inside the image. */
  public static final String JAR_IN_IMAGE = "/opt/keyrotor/keyrotor-server.jar";

  /** The repository part of every node image's name. */
  public static final String REPOSITORY = "localhost/keyrotor-node";

  private KeyrotorImage() {}

  /** The image for {@code serverJar}, building it if the engine does not have it yet. */
  public static synchronized DockerImageName forJar(Path serverJar) throws IOException {
    DockerImageName name = DockerImageName.parse(REPOSITORY + ":" + sha256Prefix(serverJar));
    if (exists(name)) {
      return name;
    }
    ImageFromDockerfile build =
        new ImageFromDockerfile(name.asCanonicalNameString(), false)
            .withFileFromPath("keyrotor-server.jar", serverJar)
            .withDockerfileFromBuilder(
                dockerfile ->
                    dockerfile
                        .from("scratch")
                        .copy("keyrotor-server.jar", JAR_IN_IMAGE)
                        .label("io.keyrotor.image", "node")
                        .build());
    try {
      build.get(10, TimeUnit.MINUTES);
    } catch (TimeoutException | RuntimeException e) {
      throw new IOException("building the node image " + name + " failed: " + e, e);
    }
    return name;
  }

  private static boolean exists(DockerImageName name) {
    try {
      DockerClientFactory.instance().client().inspectImageCmd(name.asCanonicalNameString()).exec();
      return true;
    } catch (com.github.dockerjava.api.exception.NotFoundException e) {
      return false;
    }
  }

  static String sha256Prefix(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
