package io.keyrotor.cli;

import io.keyrotor.api.v1.Key;
import io.keyrotor.client.KeyrotorClient;
import io.keyrotor.client.Sleeper;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code keyrotor} command line: {@code keyrotor [--cluster-dir DIR [--identity NAME] |
 * --servers LIST] [--ca FILE --cert FILE --tls-key FILE | --insecure] COMMAND [--json]}. Exit
 * status 0 on success, 1 when the call failed, 2 when the command line is wrong; every failure
 * prints one line on stderr.
 */
@Command(
    name = "keyrotor",
    // Inherited by every subcommand, so that "keyrotor key set-policy --help" (which every usage
    // error points at) works at any depth.
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = KeyrotorCli.Version.class,
    // The help of shared options where a command's text differs (SharedOptions).
    resourceBundle = "io.keyrotor.cli.OptionHelp",
    // The subcommands are COMMANDS, added by commandTree: only the one a command line names.
    description = "Manage and rotate keys of a keyrotor cluster, and encrypt with them.")
public final class KeyrotorCli implements Runnable {

  /** The top-level commands, in the order the help lists them (then {@code help}). */
  static final List<Class<?>> COMMANDS =
      List.of(
          KeyCommand.class,
          DataCommands.DataKey.class,
          DataCommands.Encrypt.class,
          DataCommands.Decrypt.class,
          DataCommands.ReEncrypt.class,
          ClusterCommand.class,
          ZoneCommand.class,
          RotationsCommand.class,
          PolicyCommand.class,
          ComplianceCommand.class,
          AuditCommand.class,
          BackupCommand.class,
          AgentCommand.class,
          EventsCommand.class);

  /** The servers and the transport's security, inherited by every command. */
  @Mixin ConnectionOptions connection = new ConnectionOptions();

  @Option(
      names = "--json",
      scope = ScopeType.INHERIT,
      description = "Print JSON instead of a table.")
  boolean json;

  @Option(
      names = "--deadline",
      paramLabel = "DUR",
      scope = ScopeType.INHERIT,
      converter = Converters.PositiveDuration.class,
      description = "Overall deadline of each call, retries included (default: 10s).")
  Duration deadline;

  @Option(
      names = "--verbose",
      scope = ScopeType.INHERIT,
      description = "Print stack traces of failures.")
  boolean verbose;

  private final Path workingDirectory;
  private final UnaryOperator<KeyrotorClient.Builder> clientCustomizer;
  private final Map<String, String> errorContext = new HashMap<>();
  private KeyrotorClient client;
  private PrintWriter out;
  private PrintWriter err;
  private InputStream stdin = System.in;
  private OutputStream stdoutBytes = System.out;
  private Clock clock = Clock.systemUTC();
  private Sleeper sleeper = Sleeper.SYSTEM;
  private boolean showProgress = Terminal.stderrIsTerminal();
  private SharedClients sharedClients;
  private boolean clientShared;

  /**
   * @param workingDirectory what a relative {@code --cluster-dir} is resolved against
   * @param clientCustomizer applied to the client builder after the endpoints and deadline are set
   *     (tests shorten timeouts here)
   */
  KeyrotorCli(Path workingDirectory, UnaryOperator<KeyrotorClient.Builder> clientCustomizer) {
    this.workingDirectory = workingDirectory.toAbsolutePath();
    this.clientCustomizer = clientCustomizer;
  }

  /** Runs the CLI and exits with its status. */
  public static void main(String[] args) {
    int status = run(args, System.out, System.err);
    System.exit(status);
  }

  /** Runs the CLI against the process's current directory; returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    PrintWriter outWriter = new PrintWriter(out, true, StandardCharsets.UTF_8);
    PrintWriter errWriter = new PrintWriter(err, true, StandardCharsets.UTF_8);
    return new KeyrotorCli(Path.of(""), builder -> builder)
        .withStdio(System.in, out)
        .execute(args, outWriter, errWriter);
  }

  /**
   * Runs one command line on behalf of another process, in the resident CLI process ({@code
   * io.keyrotor.cli.resident}): relative paths mean what they mean in the caller's {@code
   * workingDirectory}, progress lines are shown when the caller's stderr is a terminal, and the SDK
   * client comes from {@code clients} (kept for the next command). Standard input is not forwarded:
   * the launcher runs commands that read it in a JVM of their own. Returns the exit status.
   */
  public static int runFor(
      String[] args,
      Path workingDirectory,
      boolean stderrIsTerminal,
      SharedClients clients,
      PrintStream out,
      PrintStream err) {
    PrintWriter outWriter = new PrintWriter(out, true, StandardCharsets.UTF_8);
    PrintWriter errWriter = new PrintWriter(err, true, StandardCharsets.UTF_8);
    KeyrotorCli cli =
        new KeyrotorCli(workingDirectory, builder -> builder)
            .withStdio(NO_STDIN, out)
            .withProgress(stderrIsTerminal);
    cli.sharedClients = clients;
    return cli.execute(args, outWriter, errWriter);
  }

  /** Standard input in the resident CLI process, where there is none. */
  private static final InputStream NO_STDIN =
      new InputStream() {
        @Override
        public int read() throws java.io.IOException {
          return read(new byte[1], 0, 1);
        }

        @Override
        public int read(byte[] bytes, int offset, int length) throws java.io.IOException {
          throw new java.io.IOException(
              "standard input is not available in the resident CLI process"
                  + " (KEYROTOR_RESIDENT=off runs the command on its own)");
        }
      };

  /**
   * The byte streams behind {@code --in -} and {@code --out -} (default: the process's own).
   *
   * @param stdoutBytes the same destination as the text output given to {@link #execute}
   */
  KeyrotorCli withStdio(InputStream stdin, OutputStream stdoutBytes) {
    this.stdin = stdin;
    this.stdoutBytes = stdoutBytes;
    return this;
  }

  /**
   * The clock and sleeper of the CLI's own waiting (polls of {@code --wait}, their timeouts); tests
   * pass a manual clock and a sleeper that advances it.
   */
  KeyrotorCli withTime(Clock clock, Sleeper sleeper) {
    this.clock = clock;
    this.sleeper = sleeper;
    return this;
  }

  /** The clock that {@code --wait} timeouts are measured on. */
  Clock clock() {
    return clock;
  }

  /** Waits between polls; a Ctrl-C (interrupt) ends the command. */
  void sleep(Duration duration) {
    try {
      sleeper.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  /** Standard input, for {@code --in -}. */
  InputStream stdin() {
    return stdin;
  }

  /** Standard output as bytes, for {@code --out -}; text written so far is flushed first. */
  OutputStream stdout() {
    out.flush();
    return stdoutBytes;
  }

  /** A path given on the command line, relative to the working directory. */
  Path resolve(String name) {
    return workingDirectory.resolve(name);
  }

  /** Parses and runs one command line; returns the exit status. */
  int execute(String[] args, PrintWriter out, PrintWriter err) {
    this.out = out;
    this.err = err;
    CommandLine commandLine = commandTree(args);
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setParameterExceptionHandler(
        (exception, arguments) -> {
          err.println(ErrorLines.usage(exception));
          err.flush();
          return 2;
        });
    commandLine.setExecutionExceptionHandler(
        (exception, command, parseResult) -> {
          err.println(ErrorLines.format(exception, errorContext));
          if (verbose) {
            exception.printStackTrace(err);
          }
          err.flush();
          return 1;
        });
    try {
      return commandLine.execute(args);
    } finally {
      if (client != null) {
        if (clientShared) {
          sharedClients.release(client);
        } else {
          client.close();
        }
        client = null;
      }
      out.flush();
      err.flush();
    }
  }

  /**
   * The command tree for {@code args}: the root with only the top-level command they name, or with
   * every command when they name none (help, a usage error, {@code generate-completion}). picocli
   * reads the annotations of every command in the tree it is given, which for the whole tree costs
   * a short-lived process about a quarter of a second of CPU; a command needs only its own branch.
   */
  CommandLine commandTree(String[] args) {
    CommandLine root = new CommandLine(this);
    Class<?> named = namedCommand(root.getCommandSpec(), args);
    for (Class<?> command : COMMANDS) {
      if (named == null || named == command) {
        root.addSubcommand(command);
      }
    }
    root.addSubcommand(new CommandLine.HelpCommand());
    if (named == null) {
      // "keyrotor generate-completion" prints picocli's bash/zsh completion script for every
      // command and option (the build writes it too, CompletionScript); hidden from the list.
      CommandLine completion = new CommandLine(new AutoComplete.GenerateCompletion());
      completion.getCommandSpec().usageMessage().hidden(true);
      root.addSubcommand("generate-completion", completion);
    }
    return root;
  }

  /**
   * The top-level command of {@code args} (their first word that is not an option of the root or an
   * option's value), or null when the first such word names none of {@link #COMMANDS}, when there
   * is none, or when an option before it is not one of the root's.
   */
  static Class<?> namedCommand(CommandLine.Model.CommandSpec root, String[] args) {
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.startsWith("-")) {
        if (arg.equals("--")) {
          return null;
        }
        boolean attachedValue = arg.contains("=");
        CommandLine.Model.OptionSpec option =
            root.findOption(attachedValue ? arg.substring(0, arg.indexOf('=')) : arg);
        if (option == null) {
          return null;
        }
        if (!attachedValue && option.arity().max() > 0) {
          i++;
        }
        continue;
      }
      for (Class<?> command : COMMANDS) {
        if (command.getAnnotation(Command.class).name().equals(arg)) {
          return command;
        }
      }
      return null;
    }
    return null;
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "missing command: key, rotations, datakey, encrypt, decrypt, reencrypt, cluster or zone");
  }

  /** The SDK client for this invocation, created on first use. */
  KeyrotorClient client() {
    if (client == null) {
      List<String> endpoints = endpoints();
      KeyrotorClient.Builder builder =
          connection
              .secure(KeyrotorClient.builder(), workingDirectory, endpoints)
              .endpoints(endpoints)
              .deadline(deadline == null ? Duration.ofSeconds(10) : deadline)
              // One call per process: a follower forwards the write, which is cheaper than
              // asking for cluster status first.
              .leaderDiscovery(false);
      try {
        client = sharedClientOrNull(endpoints, builder);
        if (client == null) {
          client = clientCustomizer.apply(builder).build();
        }
      } catch (IllegalArgumentException e) {
        // A TLS file that is missing or unusable, or --insecure for a remote server.
        throw new CliException(e.getMessage());
      }
    }
    return client;
  }

  /**
   * The client of the resident CLI process's {@link SharedClients} for these connection settings
   * (their TLS files unchanged), or null when this is not the resident process or a TLS file cannot
   * be read (then the command builds its own, and reports the problem as usual).
   */
  private KeyrotorClient sharedClientOrNull(
      List<String> endpoints, KeyrotorClient.Builder builder) {
    if (sharedClients == null) {
      return null;
    }
    List<Path> files = connection.tlsFiles(workingDirectory);
    java.util.Optional<String> version = SharedClients.versionOf(files);
    if (version.isEmpty()) {
      return null;
    }
    String settings =
        String.join(",", endpoints)
            + " deadline="
            + (deadline == null ? Duration.ofSeconds(10) : deadline)
            + (connection.insecure ? " insecure" : " tls=" + files);
    KeyrotorClient shared =
        sharedClients.acquire(
            settings, version.get(), () -> clientCustomizer.apply(builder).build());
    clientShared = true;
    return shared;
  }

  /**
   * Prints a result, the JSON (one line) when {@code --json} was given, else the table, and flushes
   * it. Commands that report progress or stream call it once per line (JSON Lines); safe to call
   * from another thread.
   */
  synchronized void print(com.google.gson.JsonElement jsonForm, String humanForm) {
    out.print(json ? JsonOutput.render(jsonForm) + "\n" : humanForm);
    out.flush();
  }

  /**
   * Prints a progress line of a long job on stderr when stderr is a terminal (a person watching),
   * with or without {@code --json}: stdout carries only the command's result either way, and
   * nothing is printed when stderr goes to a file or a pipe.
   */
  synchronized void progress(String line) {
    if (showProgress && err != null) {
      err.println(line);
      err.flush();
    }
  }

  /**
   * Prints a line on stderr whether or not it is a terminal: what a long-running command (the
   * agent) reports about itself as it goes, for its log. Safe to call from another thread.
   */
  synchronized void note(String line) {
    if (err != null) {
      err.println(line);
      err.flush();
    }
  }

  /** Whether {@link #progress} prints (default: whether the process's stderr is a terminal). */
  KeyrotorCli withProgress(boolean show) {
    this.showProgress = show;
    return this;
  }

  /**
   * Prints a key: its JSON form with {@code --json}, else {@code headline} on a line of its own
   * followed by the key's table.
   */
  void printKey(Key key, String headline) {
    print(JsonOutput.key(key), headline + "\n" + HumanOutput.key(key));
  }

  /**
   * Records what the command is about, to phrase errors ({@code key}, {@code version}); returns
   * this root.
   */
  KeyrotorCli errorContext(String name, String value) {
    errorContext.put(name, value);
    return this;
  }

  /** The server addresses from {@code --servers}, or from the cluster directory's servers file. */
  List<String> endpoints() {
    return connection.endpoints(workingDirectory);
  }

  /** The version from the jar manifest, if the CLI runs from one. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = KeyrotorCli.class.getPackage().getImplementationVersion();
      return new String[] {"keyrotor " + (version == null ? "(development build)" : version)};
    }
  }
}
