import { type Expression, Node, SyntaxKind } from 'ts-morph';

/** A value `npx gen` can read from source without running it. */
export type StaticValue =
  | string
  | number
  | boolean
  | null
  | readonly StaticValue[]
  | { readonly [key: string]: StaticValue };

/** Where evaluation stopped: the node that isn't a literal, and the option path it was under. */
export class NotStatic extends Error {
  constructor(
    readonly node: Node,
    readonly path: string,
  ) {
    super(`${path} is not a literal`);
  }
}

/**
 * Evaluates an expression made of literals: strings, numbers, booleans, null, arrays, objects,
 * `as const`, enum members and `const` variables with such initialisers. `isOpaque(path)` names
 * option paths whose value is read at run time instead (an encryption key function), which are
 * left out. Throws NotStatic at the first part that can only be known by running the code.
 */
export function evaluateStatic(
  node: Expression,
  path: string,
  isOpaque: (path: string) => boolean = () => false,
  visiting: Set<Node> = new Set(),
): StaticValue | undefined {
  if (isOpaque(path)) return undefined;
  if (
    Node.isAsExpression(node) ||
    Node.isSatisfiesExpression(node) ||
    Node.isParenthesizedExpression(node) ||
    Node.isNonNullExpression(node) ||
    Node.isTypeAssertion(node)
  ) {
    return evaluateStatic(node.getExpression(), path, isOpaque, visiting);
  }
  if (Node.isStringLiteral(node) || Node.isNoSubstitutionTemplateLiteral(node)) return node.getLiteralValue();
  if (Node.isNumericLiteral(node)) return node.getLiteralValue();
  if (Node.isTrueLiteral(node)) return true;
  if (Node.isFalseLiteral(node)) return false;
  if (Node.isNullLiteral(node)) return null;
  if (Node.isPrefixUnaryExpression(node)) {
    const operand = evaluateStatic(node.getOperand(), path, isOpaque, visiting);
    const operator = node.getOperatorToken();
    if (typeof operand === 'number' && operator === SyntaxKind.MinusToken) return -operand;
    if (typeof operand === 'number' && operator === SyntaxKind.PlusToken) return operand;
    throw new NotStatic(node, path);
  }
  if (Node.isArrayLiteralExpression(node)) {
    return node.getElements().map((element, index) => {
      if (Node.isSpreadElement(element)) throw new NotStatic(element, `${path}[${index}]`);
      const value = evaluateStatic(element, `${path}[${index}]`, isOpaque, visiting);
      if (value === undefined) throw new NotStatic(element, `${path}[${index}]`);
      return value;
    });
  }
  if (Node.isObjectLiteralExpression(node)) return evaluateObject(node, path, isOpaque, visiting);
  if (Node.isIdentifier(node) || Node.isPropertyAccessExpression(node)) {
    return evaluateReference(node, path, isOpaque, visiting);
  }
  throw new NotStatic(node, path);
}

function evaluateObject(
  node: Node & { getProperties(): Node[] },
  path: string,
  isOpaque: (path: string) => boolean,
  visiting: Set<Node>,
): StaticValue {
  const result: Record<string, StaticValue> = {};
  for (const property of node.getProperties()) {
    if (Node.isPropertyAssignment(property)) {
      const nameNode = property.getNameNode();
      if (
        !Node.isIdentifier(nameNode) &&
        !Node.isStringLiteral(nameNode) &&
        !Node.isNumericLiteral(nameNode)
      ) {
        throw new NotStatic(nameNode, `${path}[computed]`);
      }
      const name = Node.isIdentifier(nameNode) ? nameNode.getText() : String(nameNode.getLiteralValue());
      const value = evaluateStatic(property.getInitializerOrThrow(), `${path}.${name}`, isOpaque, visiting);
      if (value !== undefined) result[name] = value;
    } else if (Node.isShorthandPropertyAssignment(property)) {
      const name = property.getName();
      const value = evaluateStatic(property.getNameNode(), `${path}.${name}`, isOpaque, visiting);
      if (value !== undefined) result[name] = value;
    } else {
      throw new NotStatic(property, path);
    }
  }
  return result;
}

/** Follows a name to a `const` with a literal initialiser or to an enum member. */
function evaluateReference(
  node: Expression,
  path: string,
  isOpaque: (path: string) => boolean,
  visiting: Set<Node>,
): StaticValue | undefined {
  if (Node.isIdentifier(node) && node.getText() === 'undefined') return undefined;
  const symbol = node.getSymbol();
  const target = symbol?.isAlias() ? symbol.getAliasedSymbol() : symbol;
  const declaration = target?.getValueDeclaration() ?? target?.getDeclarations()[0];
  if (Node.isEnumMember(declaration)) {
    const value = declaration.getValue();
    if (value !== undefined) return value;
  }
  if (Node.isVariableDeclaration(declaration) && !visiting.has(declaration)) {
    const statement = declaration.getVariableStatement();
    const initializer = declaration.getInitializer();
    if (statement?.getDeclarationKind() === 'const' && initializer) {
      visiting.add(declaration);
      try {
        return evaluateStatic(initializer, path, isOpaque, visiting);
      } catch (error) {
        // Point at the option that uses the name, which is where the user looks.
        if (error instanceof NotStatic) throw new NotStatic(node, path);
        throw error;
      } finally {
        visiting.delete(declaration);
      }
    }
  }
  throw new NotStatic(node, path);
}
