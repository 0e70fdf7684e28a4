/** The object type the HTTP benches read and write: a person with a name, an age and an email. */
export const PERSON_TYPE = {
  name: 'Person',
  properties: [
    { name: 'name', dataType: 'string', required: true },
    { name: 'age', dataType: 'integer' },
    { name: 'email', dataType: 'string' },
  ],
};
