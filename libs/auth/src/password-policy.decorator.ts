import { ValidationArguments, registerDecorator } from 'class-validator';
import { POLICY_RULE_PREFIX } from '@oms/http';
import { PASSWORD_RULES } from './password-policy';

/**
 * The password policy on a DTO property, one constraint per rule so a 400 lists every rule broken, next
 * to the body's other violations. The username is read from `usernameProperty` of the same body.
 * Non-strings are left to @IsString.
 */
export function MeetsPasswordPolicy(usernameProperty = 'username'): PropertyDecorator {
  return (target, propertyName) => {
    for (const rule of PASSWORD_RULES) {
      registerDecorator({
        name: `${POLICY_RULE_PREFIX}${rule.name}`,
        target: target.constructor,
        propertyName: String(propertyName),
        validator: {
          validate: (value: unknown, args: ValidationArguments) => {
            const username = (args.object as Record<string, unknown>)[usernameProperty];
            return (
              typeof value !== 'string' ||
              !rule.broken(value, typeof username === 'string' ? username : undefined)
            );
          },
          defaultMessage: () => rule.message,
        },
      });
    }
  };
}
