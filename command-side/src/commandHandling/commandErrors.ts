import { FolioError } from '@folio/shared';

/**
 * A command under a command id the stream has already recorded, asking something else than the
 * command recorded there: it is not a retry of it, so it is not answered as one, and nothing is
 * written. Two writers that decided different commands under one id, or a caller that reused an id.
 */
export class CommandIdReusedError extends FolioError {
  readonly type = 'command-id-reused';
  readonly status = 409;

  constructor(
    readonly streamName: string,
    readonly commandId: string,
  ) {
    super(
      `command ${commandId} was already applied to ${streamName} with other content, so this command was not applied ` +
        'and nothing was written; repeat the original request unchanged to retry it, or send a new request for a different one',
    );
  }

  override problemExtensions() {
    return { stream: this.streamName, commandId: this.commandId };
  }
}
