import { expect } from 'chai';
import { FolioError } from '@folio/shared';
import type { Decider } from '../src/commandHandling/decider.js';

/** What a rejection must look like besides its class: its problem `type`, `status` and extensions. */
export interface ExpectedRejection {
  type: string;
  status: number;
  /** Compared with the error's `problemExtensions()` as a whole. */
  extensions?: Record<string, unknown>;
  message?: RegExp;
}

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/**
 * Given/when/then for a decider: the given events are folded with `evolve`, the command is
 * decided against the result, and the outcome is compared with what the rule says.
 */
export const deciderSpec = <State, Command, Event>(decider: Decider<State, Command, Event>) => ({
  given: (events: readonly Event[]) => ({
    when: (command: Command) => {
      const state = events.reduce(decider.evolve, decider.initialState());
      const decide = () => decider.decide(command, state);
      return {
        /** The decided events; returns the state they lead to, for checks beyond the events. */
        then(expected: readonly Event[]): State {
          const decided = decide();
          expect(decided).to.deep.equal(expected);
          return decided.reduce(decider.evolve, state);
        },
        thenNothing(): void {
          expect(decide()).to.deep.equal([]);
        },
        thenThrows<E extends Error>(errorClass: ErrorClass<E>, expected?: ExpectedRejection): E {
          let caught: unknown;
          try {
            decide();
          } catch (error) {
            caught = error;
          }
          expect(caught, 'the command should have been rejected').to.be.instanceOf(errorClass);
          if (expected !== undefined) {
            expect(caught).to.be.instanceOf(FolioError);
            const error = caught as FolioError;
            expect({ type: error.type, status: error.status }).to.deep.equal({ type: expected.type, status: expected.status });
            if (expected.extensions !== undefined) expect(error.problemExtensions()).to.deep.equal(expected.extensions);
            if (expected.message !== undefined) expect(error.message).to.match(expected.message);
          }
          return caught as E;
        },
      };
    },
  }),
});
