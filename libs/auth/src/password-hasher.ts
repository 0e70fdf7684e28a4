import { Injectable } from '@nestjs/common';
import * as bcrypt from 'bcryptjs';

const COST = 10;
// Compared against when the user does not exist, so a miss costs as long as a wrong password.
const DUMMY_HASH = bcrypt.hashSync('not-a-real-password', COST);

/** bcrypt (pure JS, no native build step). */
@Injectable()
export class PasswordHasher {
  hash(password: string): Promise<string> {
    return bcrypt.hash(password, COST);
  }

  verify(password: string, hash: string | undefined): Promise<boolean> {
    return bcrypt.compare(password, hash ?? DUMMY_HASH).then((ok) => ok && hash !== undefined);
  }
}
