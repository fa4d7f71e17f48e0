// earshot-server: the executable — parses llama-server style flags, loads the one model, and serves the
// OpenAI-compatible API (EarshotServer) until SIGTERM/SIGINT, which drain in-flight requests and exit 0.
import ArgumentParser
import Earshot
import EarshotServer
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "earshot-server",
        abstract: "An OpenAI-compatible HTTP server for one Earshot model (Whisper, Qwen-Audio, Qwen-Audio-Chat).",
        discussion: """
        Endpoints: GET /health, GET /v1/models, GET /metrics (Prometheus), POST /v1/audio/transcriptions and \
        /v1/audio/translations (multipart/form-data as in OpenAI's API), POST /v1/chat/completions (Qwen-Audio \
        models; user content parts {"type":"text"} and {"type":"input_audio","input_audio":{"data":<base64>,\
        "format":"wav"}}; "stream": true for server-sent events). /v1/models says which endpoints the loaded \
        model serves.

        It binds 127.0.0.1 unless --host says otherwise; with --api-key every request but /health needs \
        'Authorization: Bearer KEY'. Audio comes only from request bodies: no request can make it read a file. \
        SIGTERM/SIGINT finish the requests in flight and exit 0. Docs/server.md has curl examples.

        Examples:
          earshot-server --model whisper-base.q8.ear
          earshot-server --model qwen-audio-chat.q4m.ear --host 0.0.0.0 --parallel 2 --api-key SECRET
          curl -F file=@jfk.wav http://127.0.0.1:8080/v1/audio/transcriptions
        """)

    @Option(name: [.short, .long], help: "The .ear model to serve.")
    var model: String

    @Option(help: "Address to bind (0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0: any free port).")
    var port = 8080

    @Option(name: [.long, .customLong("np", withSingleDash: true)], help: "Sessions that run requests at once (the model is mapped once).")
    var parallel = 1

    @Option(help: "Requests that may wait for a session; more get HTTP 429 with Retry-After.")
    var queue = 16

    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY' on every request but /health.")
    var apiKey: String?

    @Option(name: [.short, .long], help: "Kernel threads (default: all cores, or EARSHOT_THREADS).")
    var threads: Int?

    @Option(name: .customLong("max-body-mb"), help: "Largest request body, MB (OpenAI's upload limit is 25).")
    var maxBodyMB = 25.0

    @Option(name: .customLong("max-audio-seconds"), help: "Longest audio per upload or input_audio part, seconds.")
    var maxAudioSeconds = 3600.0

    @Option(name: .customLong("max-tokens"), help: "Largest max_tokens a chat completion may ask for (the model's context caps it too).")
    var maxTokens = 4096

    @Option(help: "Longest time one request may run, seconds (then it is cancelled: 504).")
    var timeout = 600.0

    @Option(help: "The model id /v1/models lists (default: the file name).")
    var alias: String?

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads \(t): must be at least 1") }
        guard maxBodyMB.isFinite, maxBodyMB > 0, maxBodyMB <= 4096 else { throw ValidationError("--max-body-mb \(maxBodyMB): must be in (0, 4096]") }
        var c = serverConfiguration
        c.apiKey = apiKey
        do { try c.validate() } catch { throw ValidationError(error.description) }
    }

    var serverConfiguration: ServerConfiguration {
        var c = ServerConfiguration()
        c.host = host
        c.port = port
        c.parallel = parallel
        c.queueLimit = queue
        c.apiKey = apiKey
        c.maxBodyBytes = Int(maxBodyMB * 1024 * 1024)
        c.maxAudioSeconds = maxAudioSeconds
        c.maxTokens = maxTokens
        c.requestTimeoutSeconds = timeout
        c.modelName = alias
        return c
    }

    func run() async throws {
        var logger = Logger(label: "earshot-server")
        logger.logLevel = .info
        let host: ServerHost
        do { host = try ServerHost(configuration: serverConfiguration, logger: logger) } catch {
            throw ValidationError(error.description)
        }
        let bound = serverConfiguration.host
        let display = bound.contains(":") ? "[\(bound)]" : bound
        let app = host.application { port in
            FileHandle.standardOutput.write(Data("earshot-server: listening on http://\(display):\(port)\n".utf8))
        }
        // The port opens at once (/health answers "loading"); the model maps beside it. A model that cannot
        // be loaded ends the group, and so the server, with exit code 1.
        let loader = ModelLoader(host: host, path: model, threads: threads)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app), .init(service: loader, successTerminationBehavior: .ignore)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do { try await group.run() } catch {
            let message = (error as? ModelLoader.Failure)?.message ?? "\(error)"
            FileHandle.standardError.write(Data("earshot-server: \(message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Maps the model once the server is up and hands it to the host; a failure ends the service group.
struct ModelLoader: Service {
    struct Failure: Error { let message: String }
    let host: ServerHost
    let path: String
    let threads: Int?

    func run() async throws {
        let (path, threads) = (self.path, self.threads)
        let server: EarshotServer
        do {
            server = try host.load { () throws(EarshotError) in try EarshotModel(path: path, options: ModelOptions(threads: threads)) }
        } catch let e as EarshotError { throw Failure(message: e.description) } catch { throw Failure(message: "\(error)") }
        FileHandle.standardError.write(Data("earshot-server: \(server.model.info.family.displayName) model \(server.modelID) loaded in \(String(format: "%.2f", server.model.loadSeconds)) s; serves \(server.endpoints.joined(separator: ", "))\n".utf8))
    }
}
